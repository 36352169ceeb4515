"""Write the published API contract (services/openapi.py) to openapi.json at the repository root:

    python scripts/export_openapi.py            # (make openapi) regenerate it
    python scripts/export_openapi.py --check    # exit 1 when the committed file differs from the service's

Commit the file with the change that alters the API: tests fail when it drifts from what the service serves, and the
generated client (clients/python, `make client`) is built from it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
TARGET = REPO / "openapi.json"


def contract() -> str:
    from services.model_service import ModelService

    return json.dumps(ModelService.openapi_spec.asdict(), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    text = contract()
    if args.check:
        if not TARGET.exists() or TARGET.read_text() != text:
            sys.exit(f"{TARGET} is not the service's contract: run `python scripts/export_openapi.py`")
        print(f"{TARGET} is up to date")
        return
    TARGET.write_text(text)
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()

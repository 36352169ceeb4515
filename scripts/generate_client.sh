#!/usr/bin/env bash
# Regenerates the Python client in clients/python from openapi.json (make client). The generator runs in a virtual
# environment of its own (.cache/client-generator): its pins are not the service's concern.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
TOOL="$REPO/.cache/client-generator"
VERSION="0.29.1"
if [[ "$(cat "$TOOL/.installed" 2>/dev/null)" != "$VERSION" ]]; then
  python3 -m venv "$TOOL"
  "$TOOL/bin/pip" install --quiet "openapi-python-client==$VERSION"
  echo "$VERSION" > "$TOOL/.installed"
fi
# its post-generation hooks run ruff (a dependency of the generator) from PATH
PATH="$TOOL/bin:$PATH" "$TOOL/bin/openapi-python-client" generate --path "$REPO/openapi.json" \
  --output-path "${1:-$REPO/clients/python}" --overwrite --config "$REPO/clients/openapi-python-client.yaml"

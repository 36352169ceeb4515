"""A local OpenAI-compatible endpoint that records request bodies and answers what the test scripts: the network
edge of the language engines (SGLang, vLLM, a shared cluster), which these tests cannot reach for real."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StubOpenAI:
    def __init__(self, port: int = 0, announce: bool = False) -> None:
        self.announce = announce  # print a line as each chat request arrives (the process's log shows it)
        self.requests: list[dict] = []  # bodies of POST /v1/chat/completions, in order
        self.headers: list[dict] = []
        # scripted replies: {"content", "logprobs"?, "status"?, "delay"? (before the answer), "token_delay"? (between
        # streamed tokens), "finish_reason"?}
        self.answers: list[dict] = []
        self.aborted = 0  # streamed answers whose client closed the connection before the end
        self.tokens_sent = 0  # streamed tokens written, over all answers
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                self._reply(200, {"object": "list", "data": [{"id": "stub-model", "object": "model"}]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append(body)
                stub.headers.append({k.lower(): v for k, v in self.headers.items()})
                answer = stub.answers.pop(0) if stub.answers else {"content": "{}"}
                if stub.announce:
                    print(f"chat request {len(stub.requests)} received", flush=True)
                time.sleep(answer.get("delay", 0))  # a slow engine
                if answer.get("status", 200) != 200:
                    return self._reply(answer["status"], {"error": {"message": answer.get("content", "error")}})
                if body.get("stream"):
                    return self._stream(body, answer)
                self._reply(200, completion(body.get("model", ""), answer["content"], answer.get("logprobs")))

            def _stream(self, body: dict, answer: dict) -> None:
                """Server-sent events as SGLang and vLLM send them: a chunk per token, the finish reason, the usage
                (when asked for), [DONE]."""
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                try:
                    for event in stream_events(body, answer):
                        self.wfile.write(b"data: " + json.dumps(event).encode() + b"\n\n")
                        self.wfile.flush()
                        if event["choices"] and event["choices"][0]["delta"].get("content"):
                            stub.tokens_sent += 1
                            time.sleep(answer.get("token_delay", 0))
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    stub.aborted += 1  # the client closed the connection: stop generating, as the engines do

            def _reply(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def completion(model: str, content: str, logprobs: list[tuple[str, float]] | None) -> dict:
    """A chat.completion object as OpenAI-compatible servers return it."""
    choice = {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}
    if logprobs is not None:
        choice["logprobs"] = {"content": [{"token": t, "logprob": lp, "bytes": list(t.encode()), "top_logprobs": []}
                                          for t, lp in logprobs]}
    tokens = len(logprobs) if logprobs is not None else max(1, len(content) // 4)
    return {"id": "chatcmpl-stub", "object": "chat.completion", "created": 0, "model": model, "choices": [choice],
            "usage": {"prompt_tokens": 100, "completion_tokens": tokens, "total_tokens": 100 + tokens}}


def stream_events(body: dict, answer: dict) -> list[dict]:
    """The chat.completion.chunk events of `answer`: one per token (the scripted log-probability tokens, else four
    characters at a time), then the finish reason, then the usage when `stream_options.include_usage` is set."""
    content, logprobs = answer["content"], answer.get("logprobs")
    tokens = [token for token, _ in logprobs] if logprobs is not None else [content[i:i + 4]
                                                                            for i in range(0, len(content), 4)]
    base = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": 0, "model": body.get("model", "")}
    events = []
    for i, token in enumerate(tokens):
        choice = {"index": 0, "delta": {"role": "assistant", "content": token} if i == 0 else {"content": token},
                  "finish_reason": None}
        if logprobs is not None:
            choice["logprobs"] = {"content": [{"token": token, "logprob": logprobs[i][1],
                                               "bytes": list(token.encode()), "top_logprobs": []}]}
        events.append({**base, "choices": [choice]})
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": answer.get("finish_reason",
                                                                                                "stop")}]})
    if (body.get("stream_options") or {}).get("include_usage"):
        events.append({**base, "choices": [], "usage": {"prompt_tokens": 100, "completion_tokens": len(tokens),
                                                        "total_tokens": 100 + len(tokens)}})
    return events


def main() -> None:
    """`python -m tests.support.stub_openai --port N`: the stub as a process of its own (an engine stand-in for the
    engine process manager's tests: /health, /v1/models, chat completions)."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ready-after", type=float, default=0.0, help="seconds before /health answers 200")
    parser.add_argument("--slow-first", type=float, default=0.0, help="seconds the first chat answer takes")
    args = parser.parse_args()
    time.sleep(args.ready_after)
    stub = StubOpenAI(port=args.port, announce=True)
    if args.slow_first:
        stub.answers.append({"content": "{}", "delay": args.slow_first})
    stub.thread.join()


if __name__ == "__main__":
    main()

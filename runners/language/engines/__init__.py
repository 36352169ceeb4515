"""Language engines behind one interface (`chat.py`): SGLang and vLLM processes and shared endpoints through their
OpenAI-compatible API, transformers in-process."""

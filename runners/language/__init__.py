"""Summarization and ontology augmentation: the LanguageRunner service (`service.py`), the two tasks' prompts,
schemas and post-validation (`summarize.py`, `augment.py`), frame sampling, token budgets, and the engines
(`engines/`: SGLang and vLLM processes, shared endpoints, transformers in-process)."""

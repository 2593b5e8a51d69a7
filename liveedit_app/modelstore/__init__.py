"""The model manager: which models are installed (shipped with the app or in the user's data
folder), installing one from a folder or, only when asked, from a Hugging Face repository, checking
its files against the sha256 sums of its `model.json`, and removing it. Nothing here runs at
start-up and nothing is downloaded unless the user asks.
"""

"""Helpers several test packages share: manifests and documents on disk (corpus), a watcher
thread that runs while a command does (background)."""

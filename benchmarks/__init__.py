"""Performance benchmarks of ocigen-iac against the emulator (`python -m benchmarks.run`)."""

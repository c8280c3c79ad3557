"""ocigen-iac: infrastructure as code for OCI Generative AI's agent building blocks."""

__version__ = "0.1.0"

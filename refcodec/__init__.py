"""FaceCodec reference codec: bit I/O, the FCS parameter stream, quantization, errors."""

__version__ = "0.1.0"

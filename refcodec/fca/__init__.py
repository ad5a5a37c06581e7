"""The avatar container (.fca): SPEC chapter 11."""

from .codec import PackConfig, decode_avatar, encode_avatar

read_fca = decode_avatar
write_fca = encode_avatar

__all__ = ["PackConfig", "decode_avatar", "encode_avatar", "read_fca", "write_fca"]

"""CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as Secret Manager's dataCrc32c.

Contract: `crc32c(data: bytes) -> int` in [0, 2**32). crc32c(b"123456789") == 0xE3069283.
"""

_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF

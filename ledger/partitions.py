"""Which partition a wallet's debits are applied in.

The hash must be the same in every process and every run, so it is CRC-32, never Python's
salted ``hash()``.
"""

import zlib


def partition_of(user_id: str, partitions: int) -> int:
    return zlib.crc32(user_id.encode()) % partitions

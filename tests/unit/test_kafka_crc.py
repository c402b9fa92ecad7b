"""Both Kafka clients (the relay's producer, the notifier's consumer) check each record batch's
CRC-32C with the `crc32c` package's C implementation: kafka-python's pure-Python fallback was
most of a consumer's time (the notifier consumed 5,000 events/s with it, 8,900 without it:
bench/notifier_consume.py)."""

from __future__ import annotations

from kafka.record import util


def test_kafka_python_checks_crcs_with_the_c_implementation() -> None:
    assert util.crc32c_c is not None, "pip install crc32c (a dependency in pyproject.toml)"
    assert util.calc_crc32c.__defaults__ == (util.crc32c_c,)
    assert util.calc_crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value (RFC 3720)

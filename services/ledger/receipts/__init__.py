"""Receipts on expense lines: what a file really is (sniffed, metadata stripped), where its
bytes live (the local filesystem or S3-compatible storage), and erasing them.

Claims carry receipts as references (`shared.events.types.ReceiptRef`: a SHA-256 content
hash, a media type, a size); the bytes never enter an event."""

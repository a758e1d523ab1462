"""The crossing on disk: an outbox that writes batch files atomically, an inbox that
verifies them and hands their records over as a stream, and a carrier that copies complete
batches from one directory to another (``airgap transfer``). The format is
docs/transfer-format.md."""

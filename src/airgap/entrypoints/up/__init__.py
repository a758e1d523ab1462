"""`airgap up`: both networks on one machine."""

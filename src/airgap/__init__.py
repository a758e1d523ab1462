"""airgap: answer search queries across an air gap.

The package is a hexagonal library: a pure domain core (:mod:`airgap.domain`) that talks to
the outside only through ports (:mod:`airgap.ports`), adapters that implement those ports
(:mod:`airgap.adapters`) and entrypoints that wire them (:mod:`airgap.entrypoints`).
"""

__version__ = "0.1.0"

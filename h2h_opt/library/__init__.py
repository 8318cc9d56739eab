"""Named workloads and systems: backbones by layer shapes, the MMMT workloads and
accelerator presets (zoo), generators, and suites of instances with their MANIFEST."""

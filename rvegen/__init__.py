"""rvegen: validated, FEA-ready 3D representative volume elements from 2D micrographs.

Each pipeline stage is a plain function usable without the CLI::

    from rvegen.spec import load_spec
    from rvegen.pipeline import build
    build(load_spec("examples/quickstart.yaml"))
"""

__version__ = "0.1.0"

"""prt: run, deliver and analyse Pain Reprocessing Therapy (PRT) trials.

Domain packages (``instruments``, ``trial``, ``analysis``, ``data``) are pure Python over plain
data; the ``prt`` command line is the edge that does I/O.
"""

__version__ = "0.1.0"

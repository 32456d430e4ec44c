"""The scan driver: plans the work, runs the engine over a source's blobs in worker processes, and gathers
the matches into findings. One module per source kind (files, git, staged, memory) over one ScanRun
(scanner.pipeline.run); planning and worker plumbing in their own modules; the sweep over many repositories.
"""

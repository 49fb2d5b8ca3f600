"""``mlnb`` sub-commands of the pipeline capability: run, sweep, tune, pipeline, step, rerun.

Each module has ``add_arguments(parser)`` and ``main(args) -> int`` and imports
only :mod:`argparse` at load time, so ``mlnb --help`` stays fast.
"""

"""Is this notebook reproducible? ``mlnb check``, ``%check_notebook`` and ``mlnb.check(nb)``.

The package is ``mlnb.checking`` and the function ``mlnb.check`` (so the function is never
replaced by a submodule of the same name). One job per module:

* :mod:`~mlnb.checking.cells` — what each code cell defines and uses (its AST);
* :mod:`~mlnb.checking.static` — before any kernel: execution order, def-use across
  cells, never-run cells, missing imports, foreign kernel;
* :mod:`~mlnb.checking.fresh` — restart and run all in a new kernel (nbclient);
* :mod:`~mlnb.checking.normalize` — what always changes (addresses, times, temp paths,
  progress bars, timing lines);
* :mod:`~mlnb.checking.compare` — text, numbers with a tolerance, tables by value,
  images by size and perceptual hash, errors;
* :mod:`~mlnb.checking.io_audit` — the files the notebook opens (audit hook, SHA-256);
* :mod:`~mlnb.checking.report` — :class:`~mlnb.checking.report.CheckReport`;
* :mod:`~mlnb.checking.api` — :func:`~mlnb.checking.api.check`, which ties them together;
* :mod:`~mlnb.checking.pytest_plugin` — ``pytest --mlnb-check notebooks/``.

Nothing here is imported by ``import mlnb``; ``mlnb.check`` resolves on first use.
"""

"""%drift --method/--stattest/--alpha in an in-process IPython shell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError


def test_drift_magic_takes_a_method_and_alpha(shell, capsys) -> None:
    rng = np.random.default_rng(1)
    n = 500
    flag = (rng.random(n) < 0.3).astype(int)
    shell.user_ns["ref"] = pd.DataFrame({"flag": flag, "x": rng.normal(size=n)})
    shell.user_ns["cur"] = pd.DataFrame(
        {"flag": np.where(flag == 1, 7, 0), "x": rng.normal(size=n)}
    )
    shell.run_line_magic("drift", "ref cur --method ks --no-widget -o rep")
    out = capsys.readouterr().out
    assert out.startswith("drift: 1 of 2 columns drift (flag)")
    assert "KS statistic D" in out
    report = shell.user_ns["rep"]
    assert report.method == "ks" and report.alpha == 0.05
    shell.run_line_magic("drift", "ref cur --stattest psi --alpha 0.01 --no-widget -o rep")
    assert shell.user_ns["rep"].method == "psi" and shell.user_ns["rep"].alpha == 0.01
    assert "PSI" in capsys.readouterr().out
    with pytest.raises(UsageError, match="categorical_threshold does not apply"):
        shell.run_line_magic(
            "drift", "ref cur --method chisquare --categorical-threshold 0.2 --no-widget"
        )

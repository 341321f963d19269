"""Write the small data set the golden tests use (run once; the output is committed).

60 responses with three margin variables (a: 3 categories, b: 2, c: 4), two
strata, a domain, a numeric answer y, a 0/1 answer z and unequal starting
weights w0; population margins that add up to 1000 enterprises.
"""
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def main() -> None:
    rng = np.random.default_rng(20261128)
    n = 60
    frame = pd.DataFrame({
        "id": np.arange(1, n + 1),
        "stratum": np.repeat([1, 2], [35, 25]),
        "a": rng.choice([1, 2, 3], n, p=[.5, .3, .2]),
        "b": rng.choice([1, 2], n, p=[.6, .4]),
        "c": rng.choice([1, 2, 3, 4], n, p=[.4, .3, .2, .1]),
        "dom": rng.choice([1, 2], n),
        "w0": np.round(rng.uniform(8, 30, n), 3),
    })
    frame["y"] = np.round(3 + frame["a"] * 0.8 - frame["b"] * 0.5 + rng.normal(0, 1.2, n), 4)
    frame["z"] = (rng.random(n) < 0.25 + 0.15 * (frame["c"] >= 3)).astype(int)
    frame.to_csv(HERE / "weights_data.csv", index=False)
    margins = pd.DataFrame({
        "margin": ["a"] * 3 + ["b"] * 2 + ["c"] * 4,
        "code": [1, 2, 3, 1, 2, 1, 2, 3, 4],
        "count": [420, 350, 230, 540, 460, 380, 300, 200, 120],
    })
    margins.to_csv(HERE / "weights_margins.csv", index=False)


if __name__ == "__main__":
    main()

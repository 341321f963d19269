# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 2. Weights and scores
#
# Weight the PGI feedback survey to the province's (illustrative) enterprise margins and
# estimate the four sub-indices and the total, with intervals from the replicate weights.

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt

from survey import jobs
from survey.scoring import ScoringConfig, summary_text
from survey.weights import proportion

folder = Path(os.environ.get("PGI_NOTEBOOK_DIR", "notebook_out")) / "demo"
store, files = jobs.demo_store(folder)

# %% [markdown]
# The weighting as it was stored: the design with its replicate weights, and its diagnostics.

# %%
weighted = jobs.load_weighted(store, "pgi_feedback", files.feedback[0])
design = weighted.design
print(weighted.diagnostics.text())

# %% [markdown]
# A weighted share with its interval: firms rating environmental quality good or very good.

# %%
proportion(design, "env_quality", codes=[4, 5], exclude=[98])

# %%
result = jobs.score_year(store, "pgi_feedback", 2025, ScoringConfig(sensitivity=True)).value
print(summary_text(result, "vi"))

# %%
subs = result.table[result.table["kind"] == "subindex"]
fig, ax = plt.subplots(figsize=(7, 3))
ax.errorbar(subs["estimate"], subs["short_vi"], xerr=[subs["estimate"] - subs["ci_low"],
            subs["ci_high"] - subs["estimate"]], fmt="o", capsize=4)
ax.set_xlim(0, 10)
ax.set_title("Ước tính không chính thức / unofficial estimate")
plt.show()

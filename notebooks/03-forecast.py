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
# # 3. Forecast of the official PGI
#
# Forecast Bac Ninh's official PGI for 2025 (Bac Giang has been part of Bac Ninh since
# 1 July 2025), with the association's estimate as a signal, and check how much to trust it.

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt

from survey.demo import demo_store
from survey.forecast import ForecastConfig, backtest, forecast_province, forecast_text, simulation_study
from survey.scoring import ScoringConfig, association_estimates, load_targets, official_panel, score_survey

folder = Path(os.environ.get("PGI_NOTEBOOK_DIR", "notebook_out")) / "demo"
store, files = demo_store(folder)

# %%
table = score_survey("pgi_feedback", 2025, store=store, config=ScoringConfig(sensitivity=False)).table
estimates = association_estimates(table)
result = forecast_province("Bac Ninh", 2025, panel=official_panel(), estimates=estimates,
                           targets=load_targets("bac_giang"), config=ForecastConfig(draws=5000))
print(forecast_text(result, "vi"))

# %%
dist = result.ranks["bridge"]
plt.bar(dist.index, dist.values)
plt.xlabel("Thứ hạng / rank among 34")
plt.show()

# %% [markdown]
# How much to trust it: the rolling-origin backtest on the official record, and a small
# simulation study with a known truth (the full one: `pgi-survey forecast simulate`).

# %%
backtest(official_panel())

# %%
simulation_study(panels=5, provinces=12)

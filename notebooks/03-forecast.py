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

from survey import jobs
from survey.forecast import ForecastConfig, backtest_text, forecast_text, simulation_text

folder = Path(os.environ.get("PGI_NOTEBOOK_DIR", "notebook_out")) / "demo"
store, files = jobs.demo_store(folder)

# %% [markdown]
# The same forecast as `pgi-survey forecast` and the annual report: the official record
# shipped with pgi-survey plus every table imported into the store.

# %%
result = jobs.forecast_year(store, "Bac Ninh", 2025, ForecastConfig(draws=5000), targets="bac_giang",
                            survey_province="Bắc Giang").value
print(forecast_text(result, "vi"))

# %%
dist = result.ranks
plt.bar(dist.index, dist.values)
plt.xlabel("Thứ hạng / rank among 34")
plt.show()

# %% [markdown]
# How much to trust it: the rolling-origin backtest on the official record (beside the naive
# "same as last year"), and a small realistic simulation with a known truth (the full one, 200 worlds:
# `pgi-survey forecast simulate`).

# %%
print(backtest_text(jobs.backtest_forecast(store).value, "vi"))

# %%
print(simulation_text(jobs.simulate_forecast(panels=20, draws=400).value, "vi"))

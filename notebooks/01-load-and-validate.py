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
# # 1. Load and validate survey exports
#
# Load a month of the difficulties survey (a KoboToolbox CSV) and the PGI feedback survey
# (an SPSS file) from the demo year, and look at what was quarantined and why.
# Set `PGI_NOTEBOOK_DIR` to work in another folder.

# %%
import os
from pathlib import Path

from survey import jobs
from survey.demo import write_demo
from survey.ingest import console_summary, problem_table
from survey.store import Store, load_responses

folder = Path(os.environ.get("PGI_NOTEBOOK_DIR", "notebook_out")) / "01"
files = write_demo(folder / "inputs")
store = Store(f"sqlite:///{folder / 'store.sqlite'}")

# %% [markdown]
# February carries two bad rows (an unknown district code and a year in the future).

# %%
period, path = files.monthly[1]
result = jobs.load_export(store, path, "monthly_difficulties", period).value
print(console_summary(result, "vi"))
problem_table(result, "vi")

# %% [markdown]
# Loading the same file again adds nothing: every row is already present.

# %%
again = jobs.load_export(store, path, "monthly_difficulties", period).value
assert again.accepted == 0 and again.already_present + again.quarantined == again.rows_read
print(again.summary("en"))

# %%
feedback = jobs.load_export(store, files.feedback[1], "pgi_feedback", files.feedback[0]).value
print(feedback.summary("vi"))
responses = load_responses("pgi_feedback", store=store, labels=True)
responses[["locality", "sector", "size_class", "env_quality"]].head()

# Golden values for tests/weights/test_designs.py: sampling designs (strata, one- and two-stage clusters,
# fpc, lonely PSUs), replicate designs built from them (JK1, JKn, bootstrap by cluster, BRR), the estimators
# and svyciprop's intervals, computed with R's survey package on its own data(api) and data(scd).
# Run from the project root:  Rscript tests/golden/designs.R
# (Debian: apt-get install r-cran-survey r-cran-jsonlite). Writes tests/golden/api_*.csv, scd.csv,
# designs_expected.json and the bootstrap multipliers designs_boot_*.csv.
suppressMessages(library(survey))
options(survey.lonely.psu = "fail")
here <- "tests/golden"
data(api)
data(scd)
keep <- c("snum", "dnum", "stype", "api00", "api99", "enroll", "meals", "ell", "sch.wide", "pw")
write.csv(apistrat[, c(keep, "fpc")], file.path(here, "api_strat.csv"), row.names = FALSE)
write.csv(apiclus1[, c(keep, "fpc")], file.path(here, "api_clus1.csv"), row.names = FALSE)
write.csv(apiclus2[, c(keep, "fpc1", "fpc2")], file.path(here, "api_clus2.csv"), row.names = FALSE)
write.csv(scd, file.path(here, "scd.csv"), row.names = FALSE)

out <- list(r_version = R.version.string, survey_version = as.character(packageVersion("survey")))
est <- function(s) list(estimate = unname(as.vector(coef(s))), se = unname(as.vector(SE(s))))
ratio <- function(s) list(estimate = unname(as.vector(coef(s))), se = unname(as.vector(SE(s))))
ciprop <- function(formula, design, method) {
  ci <- svyciprop(formula, design, method = method)
  list(estimate = as.numeric(ci), ci = unname(as.vector(confint(ci))))
}
props <- function(design, prefix) {
  for (m in c("logit", "beta", "mean", "likelihood", "asin", "xlogit"))
    out[[paste0(prefix, "_ciprop_", m)]] <<- ciprop(~I(sch.wide == "Yes"), design, m)
}

# ---- linearised: stratified with fpc (apistrat), one-stage clusters with fpc (apiclus1), two-stage (apiclus2)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
out$strat_mean <- est(svymean(~api00 + enroll, dstrat))
out$strat_total_enroll <- est(svytotal(~enroll, dstrat))
out$strat_ratio <- ratio(svyratio(~api00, ~api99, dstrat))
out$strat_degf <- degf(dstrat)
props(dstrat, "strat")

dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
out$clus1_mean <- est(svymean(~api00 + api99, dclus1))
out$clus1_total_enroll <- est(svytotal(~enroll, dclus1))
out$clus1_by_stype <- est(svyby(~api00, ~stype, dclus1, svymean))
out$clus1_ratio <- ratio(svyratio(~api00, ~api99, dclus1))
out$clus1_degf <- degf(dclus1)
props(dclus1, "clus1")
dclus1wr <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1)
out$clus1_nofpc_mean <- est(svymean(~api00, dclus1wr))

dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)
out$clus2_weights <- unname(weights(dclus2))
out$clus2_mean_api00 <- est(svymean(~api00, dclus2))
out$clus2_total_enroll <- est(svytotal(~enroll, dclus2, na.rm = TRUE))
out$clus2_by_stype <- est(svyby(~api00, ~stype, dclus2, svymean))
dclus2wr <- svydesign(id = ~dnum + snum, weights = ~pw, data = apiclus2)
out$clus2_nofpc_mean_api00 <- est(svymean(~api00, dclus2wr))

# ---- lonely PSU: apistrat with a single middle school
lonely <- rbind(apistrat[apistrat$stype != "M", ], apistrat[apistrat$stype == "M", ][1, ])
for (how in c("certainty", "remove", "adjust", "average")) {
  options(survey.lonely.psu = how)
  d <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = lonely)
  out[[paste0("lonely_", how)]] <- est(svymean(~api00 + enroll, d))
}
options(survey.lonely.psu = "fail")
write.csv(lonely[, c(keep, "fpc")], file.path(here, "api_lonely.csv"), row.names = FALSE)

# ---- replicate designs built from the sampling designs
jk1 <- as.svrepdesign(dclus1, type = "JK1")
out$jk1_clus1_mean <- est(svymean(~api00 + api99, jk1))
out$jk1_clus1_total_enroll <- est(svytotal(~enroll, jk1))
out$jk1_clus1_scale <- jk1$scale
out$jk1_clus1_degf <- degf(jk1)
props(jk1, "jk1")
jkn <- as.svrepdesign(dstrat, type = "JKn")
out$jkn_strat_mean <- est(svymean(~api00 + enroll, jkn))
out$jkn_strat_ratio <- ratio(svyratio(~api00, ~api99, jkn))

scdnofpc <- svydesign(data = scd, prob = ~1, id = ~ambulance, strata = ~ESA, nest = TRUE)
H <- matrix(c(1, 1, 1, 1, 1, -1, 1, -1, 1, 1, -1, -1, 1, -1, -1, 1), 4, 4)  # Sylvester's, as survey.weights.hadamard(4)
brr <- as.svrepdesign(scdnofpc, type = "BRR", hadamard.matrix = H)
out$brr_scd_mean <- est(svymean(~arrests + alive, brr))
out$brr_scd_total <- est(svytotal(~arrests, brr))
out$brr_scd_repweights <- unname(as.matrix(weights(brr, "replication")))

set.seed(20261129)
boot <- as.svrepdesign(dclus1, type = "bootstrap", replicates = 50, compress = FALSE)
write.csv(unclass(boot$repweights), file.path(here, "designs_boot_clus1.csv"), row.names = FALSE)
out$boot_clus1_scale <- boot$scale
out$boot_clus1_mean <- est(svymean(~api00 + api99, boot))
props(boot, "boot")
sub <- as.svrepdesign(dstrat, type = "subbootstrap", replicates = 50, compress = FALSE)
write.csv(unclass(sub$repweights), file.path(here, "designs_subboot_strat.csv"), row.names = FALSE)
out$subboot_strat_mean <- est(svymean(~api00 + enroll, sub))

# ---- subset, quantiles, tables and the Rao-Scott test, regression
sub_e <- subset(dclus1, stype == "E")
out$subset_clus1_mean <- est(svymean(~api00 + api99, sub_e))
out$subset_clus1_degf <- degf(sub_e)
out$subset_jk1_mean <- est(svymean(~api00, subset(jk1, stype == "E")))
qs <- function(formula, design, p) {
  q <- svyquantile(formula, design, p)[[1]]
  list(estimate = unname(q[, 1]), ci_low = unname(q[, 2]), ci_high = unname(q[, 3]), se = unname(q[, 4]))
}
out$quantile_clus1 <- qs(~api00, dclus1, c(0.25, 0.5, 0.9))
out$quantile_strat <- qs(~enroll, dstrat, c(0.1, 0.5))
out$quantile_jk1 <- qs(~api00, jk1, c(0.5, 0.75))
out$quantile_clus2 <- {q <- svyquantile(~enroll, dclus2, 0.5, na.rm = TRUE)[[1]]
  list(estimate = unname(q[, 1]), ci_low = unname(q[, 2]), ci_high = unname(q[, 3]), se = unname(q[, 4]))}
qby <- svyby(~api00, ~stype, dclus1, svyquantile, quantiles = 0.5, ci = TRUE)
out$quantile_by_stype <- list(estimate = unname(qby[, 2]), se = unname(qby[, 3]))
tab <- svytable(~sch.wide + stype, dclus1)
out$table_clus1 <- list(estimate = unname(as.vector(tab)))
out$table_total_clus1 <- est(svytotal(~interaction(sch.wide, stype), dclus1))
chi <- function(t) list(statistic = unname(t$statistic), parameter = unname(t$parameter), p = unname(t$p.value))
out$chisq_clus1_F <- chi(svychisq(~sch.wide + stype, dclus1))
out$chisq_clus1_Chisq <- chi(svychisq(~sch.wide + stype, dclus1, statistic = "Chisq"))
out$chisq_strat_F <- chi(svychisq(~sch.wide + stype, dstrat))
out$chisq_jk1_F <- chi(svychisq(~sch.wide + stype, jk1))
coefs <- function(m) list(estimate = unname(coef(m)), se = unname(SE(m)),
                          ci = unname(as.vector(confint(m))))
out$glm_clus1_gaussian <- coefs(svyglm(api00 ~ ell + meals + stype, dclus1))
out$glm_clus1_binomial <- coefs(svyglm(I(sch.wide == "Yes") ~ meals + stype, dclus1, family = quasibinomial))
out$glm_strat_gaussian <- coefs(svyglm(api00 ~ api99 + stype, dstrat))
out$glm_jk1_binomial <- coefs(svyglm(I(sch.wide == "Yes") ~ meals, jk1, family = quasibinomial))

# ---- calibration with a numeric auxiliary (R's own ?calibrate example), text labels and an interaction
pop.totals <- c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018)
out$cal_totals <- list(N = 6194, H = 755, M = 1018, api99 = 3914069)
g3 <- calibrate(dclus1, ~stype + api99, c(pop.totals, api99 = 3914069))
out$cal_numeric_weights <- unname(weights(g3))
out$cal_numeric_mean <- est(svymean(~api00, g3))
out$cal_numeric_total <- est(svytotal(~enroll, g3))
g3r <- calibrate(dclus1, ~stype + api99, c(pop.totals, api99 = 3914069), calfun = "raking", epsilon = 1e-12)
out$cal_numeric_raking_weights <- unname(weights(g3r))
out$cal_numeric_raking_mean <- est(svymean(~api00, g3r))
g3j <- calibrate(jk1, ~stype + api99, c(pop.totals, api99 = 3914069))
out$cal_numeric_jk1_mean <- est(svymean(~api00 + api99, g3j))
data(api)
cells <- table(apipop$sch.wide, apipop$stype)
out$cal_cells <- list(N = nrow(apipop), counts = as.vector(cells))
gi <- calibrate(dstrat, ~interaction(sch.wide, stype), population = c(nrow(apipop), as.vector(cells)[-1]))
out$cal_interaction_weights <- unname(weights(gi))
out$cal_interaction_mean <- est(svymean(~api00 + enroll, gi))

# ---- the project's own fixture (tests/golden/weights_data.csv): clusters ~c within strata, raked
d <- read.csv(file.path(here, "weights_data.csv"))
for (v in c("a", "b", "c", "dom", "stratum")) d[[v]] <- factor(d[[v]])
m <- read.csv(file.path(here, "weights_margins.csv"))
pop <- function(v) { x <- m[m$margin == v, ]; df <- data.frame(factor(x$code), x$count); names(df) <- c(v, "Freq"); df }
tight <- list(maxit = 1000, epsilon = 1e-13)
clus <- svydesign(ids = ~c, strata = ~stratum, weights = ~w0, data = d, nest = TRUE)
out$project_clus_mean <- est(svymean(~y + z, clus))
rclus <- rake(clus, list(~a, ~b), list(pop("a"), pop("b")), control = tight)
out$project_clus_rake_mean <- est(svymean(~y + z, rclus))
out$project_clus_rake_by_dom <- est(svyby(~y, ~dom, rclus, svymean))
jknc <- rake(as.svrepdesign(clus, type = "JKn"), list(~a, ~b), list(pop("a"), pop("b")), control = tight)
out$project_jkn_clus_rake_mean <- est(svymean(~y + z, jknc))

writeLines(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           file.path(here, "designs_expected.json"))
cat("wrote", file.path(here, "designs_expected.json"), "\n")

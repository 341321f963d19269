# Golden values for tests/weights/test_golden.py, computed with R's survey package.
# Run from the project root:  Rscript tests/golden/weights.R
# (Debian: apt-get install r-cran-survey). Writes tests/golden/weights_expected.json
# and tests/golden/weights_boot_multipliers.csv.
suppressMessages(library(survey))
options(survey.lonely.psu = "fail")
here <- "tests/golden"
d <- read.csv(file.path(here, "weights_data.csv"))
for (v in c("a", "b", "c", "dom", "stratum")) d[[v]] <- factor(d[[v]])
m <- read.csv(file.path(here, "weights_margins.csv"))
pop <- function(v) { x <- m[m$margin == v, ]; df <- data.frame(factor(x$code), x$count); names(df) <- c(v, "Freq"); df }
margins <- list(~a, ~b, ~c)
popmargins <- list(pop("a"), pop("b"), pop("c"))
tight <- list(maxit = 1000, epsilon = 1e-13)
N <- sum(pop("a")$Freq)
# population totals for calibrate(): intercept and categories 2.. of each margin
totals <- c(N, pop("a")$Freq[-1], pop("b")$Freq[-1], pop("c")$Freq[-1])

out <- list(r_version = R.version.string, survey_version = as.character(packageVersion("survey")))
est <- function(s) list(estimate = unname(coef(s)), se = unname(SE(s)))
byest <- function(s) list(estimate = unname(coef(s)), se = unname(SE(s)))

base <- svydesign(ids = ~1, weights = ~w0, data = d)
raked <- rake(base, margins, popmargins, control = tight)
out$rake_weights <- unname(weights(raked))
out$rake_mean_y <- est(svymean(~y, raked))
out$rake_total_y <- est(svytotal(~y, raked))
out$rake_mean_z <- est(svymean(~z, raked))
out$rake_by_dom_y <- byest(svyby(~y, ~dom, raked, svymean))
ci <- svyciprop(~I(z == 1), raked, method = "logit")
out$rake_ciprop_z <- list(estimate = as.numeric(ci), ci = unname(as.vector(confint(ci))))

greg <- calibrate(base, ~a + b + c, population = totals)
out$greg_weights <- unname(weights(greg))
out$greg_mean_y <- est(svymean(~y, greg))
out$greg_by_dom_y <- byest(svyby(~y, ~dom, greg, svymean))

calrake <- calibrate(base, ~a + b + c, population = totals, calfun = "raking", epsilon = 1e-12, maxit = 100)
out$calraking_weights <- unname(weights(calrake))
out$calraking_mean_y <- est(svymean(~y, calrake))

logit <- calibrate(base, ~a + b + c, population = totals, calfun = "logit", bounds = c(0.45, 1.9),
                   epsilon = 1e-12, maxit = 100)
out$logit_weights <- unname(weights(logit))

bounded <- calibrate(base, ~a + b + c, population = totals, calfun = "linear", bounds = c(0.45, 1.9),
                     epsilon = 1e-12, maxit = 100)
out$bounded_linear_weights <- unname(weights(bounded))

ps <- postStratify(base, ~a, pop("a"))
out$ps_weights <- unname(weights(ps))
out$ps_mean_y <- est(svymean(~y, ps))

strat <- svydesign(ids = ~1, strata = ~stratum, weights = ~w0, data = d)
sraked <- rake(strat, margins, popmargins, control = tight)
out$strat_rake_mean_y <- est(svymean(~y, sraked))
out$base_mean_y <- est(svymean(~y, base))
out$strat_base_mean_y <- est(svymean(~y, strat))

jk1 <- rake(as.svrepdesign(base, type = "JK1"), margins, popmargins, control = tight)
out$jk1_rake_mean_y <- est(svymean(~y, jk1))
out$jk1_rake_by_dom_y <- byest(svyby(~y, ~dom, jk1, svymean))
out$jk1_rake_total_y <- est(svytotal(~y, jk1))

jkn <- rake(as.svrepdesign(strat, type = "JKn"), margins, popmargins, control = tight)
out$jkn_rake_mean_y <- est(svymean(~y, jkn))

set.seed(42)
boot <- as.svrepdesign(base, type = "subbootstrap", replicates = 50, compress = FALSE)
write.csv(unclass(boot$repweights), file.path(here, "weights_boot_multipliers.csv"), row.names = FALSE)
bootraked <- rake(boot, margins, popmargins, control = tight)
out$boot_rake_mean_y <- est(svymean(~y, bootraked))
out$boot_rake_mean_z <- est(svymean(~z, bootraked))

trimmed <- trimWeights(raked, upper = 25, lower = 5, strict = TRUE)
out$trim_weights <- unname(weights(trimmed))

writeLines(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           file.path(here, "weights_expected.json"))
cat("wrote", file.path(here, "weights_expected.json"), "\n")

# Oracle for prt.analysis.mixed: fit y ~ 0 + x0 + ... + (1 | g) with lme4/lmerTest, print JSON.
#
# Usage: Rscript fit_lmer.R jobs.json
#   jobs.json: a JSON array of jobs {"data": "path.csv", "reml": true|false,
#              "contrasts": "path.csv" (optional)}; one R start for many fits.
#   data csv: columns y, g, x0 .. x{p-1} (the design matrix, intercept column included).
#   contrasts csv: one row per contrast, p columns of weights.
# Output (stdout): a JSON array, one object per job: names, estimate, se, df, t, p (Satterthwaite,
# per coefficient), sigma2_u, sigma2_e, loglik, theta, and contrasts (estimate, se, df, t, p).
# Used live by tests/analysis/test_mixed_r_oracle.py and to freeze results (freeze_oracle.py).
# A tight bobyqa tolerance makes lme4's optimum precise enough for 1e-6 comparisons.
suppressPackageStartupMessages({
  library(lmerTest)
  library(jsonlite)
})
fit_one <- function(job) {
  d <- read.csv(job$data)
  d$g <- factor(d$g)
  xs <- grep("^x[0-9]+$", names(d), value = TRUE)
  xs <- xs[order(as.integer(sub("x", "", xs)))]
  form <- as.formula(paste("y ~ 0 +", paste(xs, collapse = " + "), "+ (1 | g)"))
  ctrl <- lmerControl(optimizer = "bobyqa",
                      optCtrl = list(rhobeg = 0.2, rhoend = 1e-12, maxfun = 1e5),
                      check.conv.singular = "ignore", calc.derivs = FALSE)
  fit <- lmer(form, data = d, REML = isTRUE(job$reml), control = ctrl)
  co <- summary(fit)$coefficients
  vc <- as.data.frame(VarCorr(fit))
  out <- list(
    names = I(rownames(co)),
    estimate = I(unname(co[, "Estimate"])),
    se = I(unname(co[, "Std. Error"])),
    df = I(unname(co[, "df"])),
    t = I(unname(co[, "t value"])),
    p = I(unname(co[, "Pr(>|t|)"])),
    sigma2_u = vc$vcov[vc$grp == "g"],
    sigma2_e = vc$vcov[vc$grp == "Residual"],
    loglik = as.numeric(logLik(fit)),
    theta = unname(getME(fit, "theta"))
  )
  if (!is.null(job$contrasts)) {
    L <- as.matrix(read.csv(job$contrasts))
    ct <- contest(fit, L, joint = FALSE)
    out$contrasts <- list(estimate = I(ct$Estimate), se = I(ct[["Std. Error"]]), df = I(ct$df),
                          t = I(ct[["t value"]]), p = I(ct[["Pr(>|t|)"]]))
  }
  out
}
args <- commandArgs(trailingOnly = TRUE)
jobs <- fromJSON(args[1], simplifyVector = FALSE)
results <- lapply(jobs, fit_one)
cat(toJSON(results, digits = NA, auto_unbox = TRUE))

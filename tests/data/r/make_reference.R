# Reference values for tests/test_design.py, tests/test_compare.py and tests/test_models.py.
#
# Run from the repository root:  Rscript tests/data/r/make_reference.R
# Needs R with the `survey` package (written against survey 4.1.1). The tests read
# only the CSV files this script writes, so R is not needed to run them.
#
# Writes
#   tests/data/reference/apiclus1.csv, apiclus2.csv   the api data sets, as shipped
#   tests/data/reference/r_reference.csv              one row per reference value
#
# apistrat.csv (same data set) is committed separately, copied from the published
# reference; the script checks that it equals data(api)'s apistrat.

suppressMessages(library(survey))
data(api)
out_dir <- "tests/data/reference"

used <- c("stype", "snum", "dnum", "api00", "api99", "enroll", "pw", "fpc",
          "sch.wide", "awards", "comp.imp", "yr.rnd", "acs.k3", "meals")
stopifnot(isTRUE(all.equal(
  read.csv(file.path(out_dir, "apistrat.csv"), stringsAsFactors = TRUE)[, used],
  apistrat[, used], check.attributes = FALSE
)))
write.csv(apiclus1, file.path(out_dir, "apiclus1.csv"), row.names = FALSE)
write.csv(apiclus2, file.path(out_dir, "apiclus2.csv"), row.names = FALSE)

rows <- list()
add <- function(design, statistic, variable, estimate, se = NA, by = "", domain = "",
                level = "", ci_low = NA, ci_high = NA, df = NA, ndf = NA, ddf = NA,
                p_value = NA) {
  rows[[length(rows) + 1]] <<- data.frame(
    design = design, statistic = statistic, variable = variable, by = by,
    domain = domain, level = level, estimate = unname(estimate), se = unname(se),
    ci_low = unname(ci_low), ci_high = unname(ci_high), df = unname(df),
    ndf = unname(ndf), ddf = unname(ddf), p_value = unname(p_value),
    stringsAsFactors = FALSE
  )
}

# mean / total of a numeric variable, overall
overall <- function(name, d, fun, variable) {
  est <- fun(as.formula(paste0("~", variable)), d, na.rm = TRUE)
  add(name, deparse(substitute(fun)), variable, coef(est), SE(est))
}

# mean / total by one or two domain columns (svyby keeps the full design)
bydomain <- function(name, d, fun, variable, by) {
  f <- as.formula(paste0("~", paste(by, collapse = "+")))
  b <- svyby(as.formula(paste0("~", variable)), f, d, fun, na.rm = TRUE)
  dom <- do.call(paste, c(lapply(by, function(v) as.character(b[[v]])), sep = "|"))
  add(name, deparse(substitute(fun)), variable, coef(b), SE(b),
      by = paste(by, collapse = "|"), domain = dom)
}

# share of each level of a factor, with the logit interval of svyciprop and the
# degrees of freedom of the (domain) design, as svyciprop uses them
props <- function(name, d, variable, by = NULL) {
  doms <- if (is.null(by)) list(list(label = "", design = d)) else
    lapply(sort(unique(as.character(d$variables[[by]]))), function(lv)
      list(label = lv, design = d[d$variables[[by]] == lv & !is.na(d$variables[[by]]), ]))
  for (dm in doms) {
    x <- dm$design$variables[[variable]]
    for (lv in levels(factor(x))) {
      dd <- update(dm$design, .ind = as.numeric(x == lv))
      ci <- svyciprop(~.ind, dd, method = "logit", na.rm = TRUE)
      add(name, "proportion", variable, as.vector(ci), SE(ci),
          by = if (is.null(by)) "" else by, domain = dm$label, level = lv,
          ci_low = attr(ci, "ci")[1], ci_high = attr(ci, "ci")[2],
          df = degf(dd[!is.na(x), ]))
    }
  }
}

# difference between two domain means, linearised jointly: svyby(covmat = TRUE)
# fails on calibrated designs in survey 4.1.1, so the contrast is taken on the
# domain totals (svytotal keeps the covariance and the calibration)
contrast <- function(name, d, variable, by, a, b, indicator = NULL) {
  v <- d$variables
  y <- if (is.null(indicator)) v[[variable]] else as.numeric(v[[variable]] == indicator)
  ina <- as.numeric(v[[by]] == a)
  inb <- as.numeric(v[[by]] == b)
  dd <- update(d, ya = y * ina, na = ina, yb = y * inb, nb = inb)
  con <- svycontrast(svytotal(~ya + na + yb + nb, dd), quote(ya / na - yb / nb))
  t <- coef(con) / SE(con)
  add(name, "difference", variable, coef(con), SE(con), by = by,
      domain = paste(a, b, sep = "-"), level = if (is.null(indicator)) "" else indicator,
      df = degf(d), p_value = 2 * pt(-abs(t), degf(d)))
}

# a domain's mean minus the mean of all domains (a region against the province): the
# domain is part of the whole, so the contrast is taken on joint totals
versus_all <- function(name, d, variable, by) {
  v <- d$variables
  ok <- as.numeric(!is.na(v[[variable]]))
  y <- ifelse(is.na(v[[variable]]), 0, v[[variable]])
  for (lv in sort(unique(as.character(v[[by]])))) {
    ind <- as.numeric(v[[by]] == lv)
    dd <- update(d, yd = y * ind, nd = ok * ind, ya = y, na = ok)
    con <- svycontrast(svytotal(~yd + nd + ya + na, dd), quote(yd / nd - ya / na))
    t <- coef(con) / SE(con)
    add(name, "versus_all", variable, coef(con), SE(con), by = by, domain = lv,
        df = degf(d), p_value = 2 * pt(-abs(t), degf(d)))
  }
}

# a weighted sum of two means with different respondents (acs.k3 is missing for
# most H and M schools), as an index combines its dimensions
combination <- function(name, d) {
  v <- d$variables
  dd <- update(d, y1 = v$api00, n1 = rep(1, nrow(v)),
               y2 = ifelse(is.na(v$acs.k3), 0, v$acs.k3), n2 = as.numeric(!is.na(v$acs.k3)))
  con <- svycontrast(svytotal(~y1 + n1 + y2 + n2, dd), quote(0.25 * y1 / n1 + 0.75 * y2 / n2))
  add(name, "combination", "api00|acs.k3", coef(con), SE(con), level = "0.25|0.75")
}

# design-based regression: linear (svyglm) and ordinal probit (svyolr); t tests on
# df.residual = degf - (terms - 1), as summary.svyglm
regression <- function(name, d, domain = "") {
  g <- svyglm(api00 ~ ell + meals + stype, d)
  s <- coef(summary(g))
  add(name, "svyglm", rownames(s), s[, 1], s[, 2], domain = domain,
      df = g$df.residual, p_value = s[, 4])
  # svyolr's defaults stop BFGS early and take the Hessian by finite differences
  # (step 1e-3): tightened, they agree with an exact Newton fit to 7 digits
  o <- svyolr(band ~ ell + meals + stype, d, method = "probit",
              control = list(reltol = 1e-15, maxit = 1000, ndeps = rep(1e-5, 7)))
  est <- coef(o)  # the coefficients, then the thresholds (zeta)
  add(name, "svyolr", names(est), est, sqrt(diag(vcov(o)))[names(est)], domain = domain)
}

chisq <- function(name, d, row, col) {
  test <- svychisq(as.formula(paste0("~", row, "+", col)), d)
  add(name, "chisq_F", paste(row, col, sep = "|"), test$statistic,
      ndf = test$parameter[["ndf"]], ddf = test$parameter[["ddf"]],
      p_value = test$p.value)
}

# -- designs -----------------------------------------------------------------
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dstrat_nofpc <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dclus1_nofpc <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1)
# two-stage sample analysed as one stage (districts sampled with replacement)
dclus2 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus2)

# population margins of the R documentation example (?rake, ?postStratify)
pop.types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop.schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
rclus1 <- rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide))
# the same, iterated to convergence (rake() stops once margins move by < 1 unit)
rclus1_tight <- rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide),
                     control = list(maxit = 100, epsilon = 1e-12))
pclus1 <- postStratify(dclus1, ~stype, pop.types)
pstrat <- postStratify(dstrat, ~sch.wide, pop.schwide)

# a stratum with a single PSU: the school with the smallest snum gets its own stratum
lonely <- apistrat
lonely$st <- as.character(lonely$stype)
lonely$st[lonely$snum == min(lonely$snum)] <- "X"

designs <- list(dstrat = dstrat, dstrat_nofpc = dstrat_nofpc, dclus1 = dclus1,
                dclus1_nofpc = dclus1_nofpc, dclus2 = dclus2, rclus1 = rclus1,
                rclus1_tight = rclus1_tight, pclus1 = pclus1, pstrat = pstrat)

for (name in names(designs)) {
  d <- designs[[name]]
  overall(name, d, svymean, "api00")
  overall(name, d, svymean, "enroll")
  overall(name, d, svytotal, "enroll")
  overall(name, d, svymean, "acs.k3")  # missing for most H and M schools
  bydomain(name, d, svymean, "api00", "stype")
  bydomain(name, d, svymean, "api00", c("stype", "awards"))
  bydomain(name, d, svytotal, "enroll", "stype")
  bydomain(name, d, svymean, "enroll", "stype")
  props(name, d, "sch.wide")
  props(name, d, "stype")
  props(name, d, "sch.wide", by = "stype")
  props(name, d, "awards", by = "stype")
  props(name, d, "comp.imp", by = "stype")
  props(name, d, "yr.rnd")
  contrast(name, d, "api00", "stype", "E", "H")
  contrast(name, d, "api00", "stype", "M", "H")
  contrast(name, d, "sch.wide", "stype", "E", "M", indicator = "Yes")
  chisq(name, d, "sch.wide", "stype")
  chisq(name, d, "awards", "stype")
}
# yr.rnd by stype in dclus1 has no "Yes" among H and M schools: R's logit interval
# is degenerate there, the package handles p = 0 and 1 on purpose (not compared).
props("dstrat", dstrat, "yr.rnd", by = "stype")

for (name in c("dstrat", "dclus1", "rclus1_tight", "pclus1")) {
  d <- designs[[name]]
  versus_all(name, d, "api00", "stype")
  versus_all(name, d, "acs.k3", "stype")
  combination(name, d)
}

# api00 in four bands for the ordinal model
band <- function(d) update(d, band = cut(api00, c(0, 550, 650, 750, 1000)))
regression("dstrat", band(dstrat))
regression("dclus1", band(dclus1))
regression("pclus1", band(pclus1))
# a domain: the regression on subset() keeps the full design (the brief's population)
regression("dclus1", subset(band(dclus1), sch.wide == "Yes"), domain = "sch.wide=Yes")

for (rule in c("adjust", "remove", "certainty")) {
  options(survey.lonely.psu = rule)
  d <- svydesign(id = ~1, strata = ~st, weights = ~pw, data = lonely)
  name <- paste0("lonely_", rule)
  overall(name, d, svymean, "api00")
  bydomain(name, d, svymean, "api00", "stype")
}
options(survey.lonely.psu = "fail")

result <- do.call(rbind, rows)
result$r_version <- paste(R.version$major, R.version$minor, sep = ".")
result$survey_version <- as.character(packageVersion("survey"))
write.csv(result, file.path(out_dir, "r_reference.csv"), row.names = FALSE)
cat("wrote", nrow(result), "reference values\n")

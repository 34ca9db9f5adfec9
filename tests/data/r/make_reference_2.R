# Reference values of the second wave of statistics (issue 13): Korn-Graubard share
# intervals, replicate-weight designs, and wave-to-wave changes with firms visited in
# both waves. The first wave's values are made by make_reference.R, beside this file.
#
# Run from the repository root:  Rscript tests/data/r/make_reference_2.R
# Needs R with the `survey` package (written against survey 4.1.1). The tests read only
# the CSV files this script writes, so R is not needed to run them.
#
# Reads
#   tests/data/reference/apistrat.csv, apiclus1.csv, apiclus2.csv  (checked against data(api))
#   tests/data/reference/panel.csv      two waves of a stratified sample of firms, half
#                                       of the second wave's firms revisited (written by
#                                       tests/data/make_panel.py)
# Writes
#   tests/data/reference/r_reference_2.csv   one row per reference value

suppressMessages(library(survey))
data(api)
out_dir <- "tests/data/reference"
used <- c("stype", "dnum", "api00", "enroll", "pw", "fpc", "sch.wide", "awards",
          "comp.imp", "yr.rnd")
for (f in c("apistrat", "apiclus1")) {
  stopifnot(isTRUE(all.equal(
    read.csv(file.path(out_dir, paste0(f, ".csv")), stringsAsFactors = TRUE)[, used],
    get(f)[, used], check.attributes = FALSE)))
}

rows <- list()
add <- function(design, statistic, variable, estimate, se = NA, by = "", domain = "",
                level = "", ci_low = NA, ci_high = NA, df = NA, p_value = NA, replicates = NA) {
  rows[[length(rows) + 1]] <<- data.frame(
    design = design, statistic = statistic, variable = variable, by = by,
    domain = domain, level = level, estimate = unname(estimate), se = unname(se),
    ci_low = unname(ci_low), ci_high = unname(ci_high), df = unname(df),
    p_value = unname(p_value), replicates = unname(replicates), stringsAsFactors = FALSE
  )
}

dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dstrat_nofpc <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dclus1_nofpc <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1)
dclus2 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus2)
designs <- list(dstrat = dstrat, dstrat_nofpc = dstrat_nofpc, dclus1 = dclus1,
                dclus1_nofpc = dclus1_nofpc, dclus2 = dclus2)

# -- 1. shares with svyciprop(method = "beta") and "logit" ---------------------------
# Each domain's design is subset to the rows answering, so that nrow(design), which
# R's beta interval uses as the cell's sample size, counts the respondents. (On a
# calibrated design subset() keeps every row at weight zero and nrow() counts them all:
# not compared.) A cell whose share is 0 or 1 has NaN limits in R, and a share fixed by
# the strata (SE 0) the limits 0.5, 0.5: both are left out.
ciprops <- function(name, d, variable, by = NULL, method) {
  doms <- if (is.null(by)) list(list(label = "", design = d)) else
    lapply(sort(unique(as.character(d$variables[[by]]))), function(lv)
      list(label = lv, design = d[d$variables[[by]] == lv & !is.na(d$variables[[by]]), ]))
  for (dm in doms) {
    x <- dm$design$variables[[variable]]
    dd <- dm$design[!is.na(x), ]
    x <- x[!is.na(x)]
    for (lv in levels(factor(x))) {
      ind <- as.numeric(x == lv)
      if (all(ind == 1) || all(ind == 0)) next
      dl <- update(dd, .ind = ind)
      ci <- svyciprop(~.ind, dl, method = method)
      if (SE(ci) == 0) next  # a share fixed by the strata: R's beta limits are 0.5, 0.5
      add(name, paste0("ciprop_", method), variable, as.vector(ci), SE(ci),
          by = if (is.null(by)) "" else by, domain = dm$label, level = lv,
          ci_low = attr(ci, "ci")[1], ci_high = attr(ci, "ci")[2], df = degf(dl))
    }
  }
}
for (name in names(designs)) {
  d <- designs[[name]]
  for (variable in c("sch.wide", "awards", "yr.rnd", "comp.imp", "stype")) {
    ciprops(name, d, variable, method = "beta")
    ciprops(name, d, variable, by = "stype", method = "beta")
  }
}
# a share near 0 in a small cell: yr.rnd among the 14 high schools of apiclus1 is 0,
# among the middle schools small
ciprops("dclus1", dclus1, "yr.rnd", by = "stype", method = "beta")
ciprops("dstrat", dstrat, "yr.rnd", by = "stype", method = "beta")

# -- 2. a difference of shares where one side has no estimated sampling error ---------
# Schools with api00 > 880: 4 of 100 elementary, 0 of 50 high schools in apistrat. The
# t test of svycontrast takes the high schools' SE as 0. MOVER (Newcombe; Zou and
# Donner) combines each side's own interval: Korn-Graubard for the elementary schools,
# the Clopper-Pearson bound for 0 of 50 for the high schools (svyciprop gives NaN there).
# Its p-value is the alpha at which the (1 - alpha) interval touches zero (uniroot).
mover <- function(name, d, a, b, level = 0.95) {
  kg <- function(lv, lev) {
    dd <- subset(d, stype == lv)
    p <- coef(svymean(~high, dd))[[1]]
    n <- nrow(dd)
    if (p == 0) return(c(p, 0, 1 - ((1 - lev) / 2)^(1 / n)))
    ci <- svyciprop(~high, dd, method = "beta", level = lev)
    c(p, attr(ci, "ci"))
  }
  bounds <- function(lev) {
    x <- kg(a, lev); y <- kg(b, lev)
    dlt <- x[1] - y[1]
    c(dlt, dlt - sqrt((x[1] - x[2])^2 + (y[3] - y[1])^2),
      dlt + sqrt((x[3] - x[1])^2 + (y[1] - y[2])^2))
  }
  m <- bounds(level)
  p <- uniroot(function(alpha) bounds(1 - alpha)[2], c(1e-12, 1 - 1e-9), tol = 1e-14)$root
  add(name, "mover", "high", m[1], by = "stype", domain = paste(a, b, sep = "-"),
      ci_low = m[2], ci_high = m[3], p_value = p)
  # the t test it replaces, for the record
  v <- d$variables
  dd <- update(d, ya = v$high * (v$stype == a), na = as.numeric(v$stype == a),
               yb = v$high * (v$stype == b), nb = as.numeric(v$stype == b))
  con <- svycontrast(svytotal(~ya + na + yb + nb, dd), quote(ya / na - yb / nb))
  add(name, "difference", "high", coef(con), SE(con), by = "stype",
      domain = paste(a, b, sep = "-"), df = degf(d),
      p_value = 2 * pt(-abs(coef(con) / SE(con)), degf(d)))
}
high <- update(dstrat, high = as.numeric(api00 > 880))
mover("dstrat", high, "E", "H")
mover("dstrat", high, "E", "M")

# -- 3. replicate-weight designs: as.svrepdesign with its defaults ---------------------
# JKn and JK1 (R's defaults: fpc taken from the design, survey.replicates.mse = FALSE);
# means, totals and shares overall and by domain, svyciprop on domain subsets.
repstats <- function(name, r) {
  for (v in c("api00", "enroll")) {
    m <- svymean(as.formula(paste0("~", v)), r, na.rm = TRUE)
    # df of the rows with a value, as the package counts them (enroll has gaps in apiclus2)
    add(name, "svymean", v, coef(m), SE(m), df = degf(r[!is.na(r$variables[[v]]), ]))
    b <- svyby(as.formula(paste0("~", v)), ~stype, r, svymean, na.rm = TRUE)
    add(name, "svymean", v, coef(b), SE(b), by = "stype", domain = as.character(b$stype))
  }
  t <- svytotal(~enroll, r, na.rm = TRUE)
  add(name, "svytotal", "enroll", coef(t), SE(t))
  b <- svyby(~enroll, ~stype, r, svytotal, na.rm = TRUE)
  add(name, "svytotal", "enroll", coef(b), SE(b), by = "stype", domain = as.character(b$stype))
  for (lv in c("E", "H", "M")) {
    s <- subset(r, stype == lv)
    for (method in c("logit", "beta")) {
      ci <- svyciprop(~I(sch.wide == "Yes"), s, method = method)
      add(name, paste0("ciprop_", method), "sch.wide", as.vector(ci), SE(ci), by = "stype",
          domain = lv, level = "Yes", ci_low = attr(ci, "ci")[1], ci_high = attr(ci, "ci")[2],
          df = degf(s))
    }
  }
  for (method in c("logit", "beta")) {
    ci <- svyciprop(~I(awards == "Yes"), r, method = method)
    add(name, paste0("ciprop_", method), "awards", as.vector(ci), SE(ci), level = "Yes",
        ci_low = attr(ci, "ci")[1], ci_high = attr(ci, "ci")[2], df = degf(r))
  }
}
repstats("jkn_dstrat", as.svrepdesign(dstrat, type = "JKn"))
repstats("jkn_dstrat_nofpc", as.svrepdesign(dstrat_nofpc, type = "JKn"))
repstats("jk1_dclus1", as.svrepdesign(dclus1, type = "JK1"))
repstats("jk1_dclus1_nofpc", as.svrepdesign(dclus1_nofpc, type = "JK1"))
repstats("jk1_dclus2", as.svrepdesign(dclus2, type = "JK1"))
repstats("jkn_dstrat_mse", as.svrepdesign(dstrat, type = "JKn", mse = TRUE))
# a stratum with a single PSU, under each rule (as make_reference.R's lonely designs)
lonely <- apistrat
lonely$st <- as.character(lonely$stype)
lonely$st[lonely$snum == min(lonely$snum)] <- "X"
for (rule in c("adjust", "remove", "certainty")) {
  options(survey.lonely.psu = rule)
  d <- svydesign(id = ~1, strata = ~st, weights = ~pw, data = lonely)
  r <- as.svrepdesign(d, type = "JKn")
  m <- svymean(~api00, r)
  add(paste0("jkn_lonely_", rule), "svymean", "api00", coef(m), SE(m), df = degf(r),
      replicates = ncol(r$repweights$weights))
}
options(survey.lonely.psu = "fail")

# the Rao-Wu bootstrap: R's subbootstrap, drawn 40 times with 500 replicates each;
# statistic boot_se: estimate = the mean of the 40 SEs, se = their standard deviation
# (the Monte Carlo spread of one SE from 500 replicates)
set.seed(20251)
for (spec in list(list("boot_dstrat_nofpc", dstrat_nofpc), list("boot_dclus1_nofpc", dclus1_nofpc))) {
  for (v in c("api00", "enroll")) {
    ses <- replicate(40, SE(svymean(as.formula(paste0("~", v)), na.rm = TRUE,
                                    as.svrepdesign(spec[[2]], type = "subbootstrap", replicates = 500))))
    add(spec[[1]], "boot_se", v, mean(ses), sd(ses), replicates = 500)
  }
}

# the relative weights (Johnson 2000) of ell, meals, mobility and col.grad in api00, net
# of the school type, with standard errors from JKn replicates (withReplicates): the
# same computation as the key drivers' importance
relweights <- function(w, data) {
  X <- model.matrix(~stype, data)
  Y <- as.matrix(data[, c("ell", "meals", "mobility", "col.grad", "api00")])
  R <- Y - X %*% solve(crossprod(X, X * w), crossprod(X, Y * w))
  C <- crossprod(R, R * w) / sum(w)
  s <- sqrt(diag(C))
  C <- C / outer(s, s)
  k <- ncol(C) - 1
  e <- eigen(C[1:k, 1:k], symmetric = TRUE)
  Lam <- e$vectors %*% diag(sqrt(e$values)) %*% t(e$vectors)
  beta <- solve(Lam, C[1:k, k + 1])
  raw <- as.vector((Lam^2) %*% beta^2)
  raw / sum(raw)
}
for (spec in list(list("jkn_dstrat", as.svrepdesign(dstrat, type = "JKn"), ""),
                  list("jkn_dstrat", subset(as.svrepdesign(dstrat, type = "JKn"), sch.wide == "Yes"),
                       "sch.wide=Yes"))) {
  rw <- withReplicates(spec[[2]], relweights)
  add(spec[[1]], "relweight", c("ell", "meals", "mobility", "col.grad"), coef(rw), SE(rw),
      domain = spec[[3]], df = degf(spec[[2]]))
}

# -- 4. firms visited in both waves: changes with the firm as the cluster -----------------
# panel.csv stacks two waves; half the second wave's firms were visited in the first,
# three of them in another size class by then. R needs clusters nested in strata, so a
# firm's stratum is its size class at its latest visit; weights are the waves' own, no
# fpc. The change is svycontrast on svyby(..., covmat = TRUE). "independent" is the
# treatment it replaces: strata wave x size with the fpc, each visit its own unit.
panel <- read.csv(file.path(out_dir, "panel.csv"), stringsAsFactors = FALSE)
ordered <- panel[order(panel$wave), ]
latest <- tapply(ordered$size, ordered$firm, function(x) x[length(x)])
panel$stratum <- latest[panel$firm]
dpanel <- svydesign(id = ~firm, strata = ~stratum, weights = ~weight, data = panel, nest = TRUE)
dindep <- svydesign(id = ~1, strata = ~interaction(wave, size), weights = ~weight, fpc = ~fpc,
                    data = panel)
for (spec in list(list("panel", dpanel), list("independent", dindep))) {
  for (v in c("y", "high")) {
    b <- svyby(as.formula(paste0("~", v)), ~wave, spec[[2]], svymean, covmat = TRUE)
    con <- svycontrast(b, c(-1, 1))
    add(spec[[1]], "change", v, coef(con), SE(con), by = "wave", domain = "2-1",
        df = degf(spec[[2]]))
  }
}

result <- do.call(rbind, rows)
result$r_version <- paste(R.version$major, R.version$minor, sep = ".")
result$survey_version <- as.character(packageVersion("survey"))
write.csv(result, file.path(out_dir, "r_reference_2.csv"), row.names = FALSE)
cat("wrote", nrow(result), "reference values\n")

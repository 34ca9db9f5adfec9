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

result <- do.call(rbind, rows)
result$r_version <- paste(R.version$major, R.version$minor, sep = ".")
result$survey_version <- as.character(packageVersion("survey"))
write.csv(result, file.path(out_dir, "r_reference_2.csv"), row.names = FALSE)
cat("wrote", nrow(result), "reference values\n")

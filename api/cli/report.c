/*
 * report.c - the batch's HTML report (see report.h). The figures' data go to OUT/report/ (.dat files),
 * gnuplot turns them into SVG, and the SVG is inlined so that report.html stands alone. Every
 * file, data and figures alike, is written under a temporary name and renamed when complete.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv.h"
#include "report.h"

#define ERROR_ROWS 50

static void html_text(FILE *f, const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static void html_num(FILE *f, double x)
{
    if (isfinite(x))
        fprintf(f, "%.6g", x);
    else
        fputs("&ndash;", f);
}

static const char *book_of(const rep_input *in, size_t b)
{
    return b < in->run->ds.pos.nbooks ? in->run->ds.pos.books[b] : "TOTAL";
}

/* ---- the positions losing most ---- */

typedef rep_loser loser;

static int by_pnl(const void *a, const void *b)
{
    const loser *x = a, *y = b;
    if (x->pnl != y->pnl)
        return x->pnl < y->pnl ? -1 : 1;
    return x->row < y->row ? -1 : (x->row > y->row);
}

/* A candidate travels as: row (8 bytes), pnl (8), kind (1), id and book NUL-terminated. */
static bool put_candidate(FILE *f, const loser *l)
{
    uint64_t row = l->row;
    fwrite(&row, sizeof row, 1, f);
    fwrite(&l->pnl, sizeof l->pnl, 1, f);
    fputc(l->kind, f);
    fwrite(l->id, 1, strlen(l->id) + 1, f);
    fwrite(l->book, 1, strlen(l->book) + 1, f);
    return !ferror(f);
}

static size_t get_candidates(const char *buf, size_t len, loser *out, size_t max)
{
    size_t n = 0, at = 0;
    while (n < max && at + 17 < len) {
        uint64_t row;
        memcpy(&row, buf + at, sizeof row);
        memcpy(&out[n].pnl, buf + at + 8, sizeof out[n].pnl);
        out[n].row = (size_t)row;
        out[n].kind = (uint8_t)buf[at + 16];
        out[n].id = (char *)buf + at + 17;
        at += 17 + strlen(out[n].id) + 1;
        out[n].book = (char *)buf + at;
        at += strlen(out[n].book) + 1;
        n++;
    }
    return n;
}

bool rep_collect_losers(cli_run *r, const double *pnl, rep_input *in)
{
    const dat_positions *p = &r->ds.pos;
    size_t n = p->n, m = 0;
    loser *all = malloc((n ? n : 1) * sizeof *all);
    char *buf = NULL;
    size_t len = 0;
    size_t k = (size_t)dist_size();
    size_t *lens = calloc(k, sizeof *lens);
    FILE *f = open_memstream(&buf, &len);
    bool ok = all != NULL && f != NULL && lens != NULL;
    if (ok) {
        for (size_t i = 0; i < n; i++)
            if (isfinite(pnl[i]))
                all[m++] = (loser){.row = p->first + i, .pnl = pnl[i], .kind = p->kind[i],
                                   .id = p->id[i],
                                   .book = p->book[i] != DAT_NONE ? p->books[p->book[i]] : ""};
        qsort(all, m, sizeof *all, by_pnl);
        for (size_t j = 0; j < m && j < REP_TOP_LOSERS; j++)
            ok = put_candidate(f, &all[j]) && ok;
    }
    if (f != NULL)
        ok = fclose(f) == 0 && ok;
    free(all);
    if (!ok)
        dist_fail(r->command, "report: out of memory");
    if (!cli_ok(r, ok)) {
        free(buf);
        free(lens);
        return false;
    }
    /* Each rank's best REP_TOP_LOSERS contain the overall best: merge them at rank 0. */
    bool gathered;
    char *every = dist_gather(buf, len, lens, &gathered);
    free(buf);
    ok = true;
    if (dist_is_root()) {
        loser cand[REP_TOP_LOSERS * 64];
        loser *c = k <= 64 ? cand : malloc(k * REP_TOP_LOSERS * sizeof *c);
        ok = gathered && every != NULL && c != NULL;
        if (ok) {
            size_t nc = 0, at = 0;
            for (size_t rk = 0; rk < k; rk++) {
                nc += get_candidates(every + at, lens[rk], c + nc, REP_TOP_LOSERS);
                at += lens[rk];
            }
            qsort(c, nc, sizeof *c, by_pnl);
            in->nlosers = nc < REP_TOP_LOSERS ? nc : REP_TOP_LOSERS;
            for (size_t j = 0; j < in->nlosers; j++) {
                in->losers[j] = c[j];
                in->losers[j].id = dat_strdup(c[j].id);
                in->losers[j].book = dat_strdup(c[j].book);
                ok = ok && in->losers[j].id != NULL && in->losers[j].book != NULL;
            }
        }
        if (c != cand)
            free(c);
        if (!ok)
            dist_fail(r->command, "report: out of memory");
    }
    free(every);
    free(lens);
    return cli_ok(r, ok);
}

void rep_free(rep_input *in)
{
    for (size_t j = 0; j < in->nlosers; j++) {
        free(in->losers[j].id);
        free(in->losers[j].book);
    }
    in->nlosers = 0;
}

/* ---- figure data ---- */

/* OUT/report/NAME, written as every output file is (cli_out_open): false with the reason printed
 * when it could not be. */
static bool write_data(cli_run *r, const char *name, const rep_input *in, int which,
                       const loser *los, size_t nlos)
{
    char rel[64];
    snprintf(rel, sizeof rel, "report/%s", name);
    FILE *f = cli_out_open(r, rel);
    if (f == NULL)
        return false;
    if (which == 0) { /* total P&L per MC scenario */
        const rsk_pnl *p = in->mc;
        for (size_t s = 0; s < p->nscen; s++)
            fprintf(f, "%.17g\n", p->pnl[p->nbooks * p->nscen + s]);
    } else if (which == 1) { /* contributions by book */
        const rsk_parametric *pv = in->parametric;
        for (size_t b = 0; b < pv->nbooks; b++)
            fprintf(f, "\"%s\" %.17g %.17g\n", book_of(in, b), pv->contrib[b], pv->var[b]);
    } else { /* top losers */
        for (size_t k = 0; k < nlos; k++)
            fprintf(f, "\"%s\" %.17g\n", los[k].id, los[k].pnl);
    }
    return cli_out_close(r, f, rel);
}

/* gnuplot draws each figure into DIR/.NAME.partial; a figure is renamed to DIR/NAME once gnuplot
 * has finished without error, and removed otherwise, so a figure that carries its final name is
 * complete. */
static bool figures_settle(const char *dir, const char *const *names, size_t n, bool ok)
{
    for (size_t k = 0; k < n; k++) {
        char tmp[4400], path[4400];
        snprintf(tmp, sizeof tmp, "%s/.%s.partial", dir, names[k]);
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        if (ok && rename(tmp, path) != 0)
            ok = false;
        if (!ok)
            unlink(tmp);
    }
    return ok;
}

static bool run_gnuplot(const char *dir, const rep_input *in, size_t nlos)
{
    if (strchr(dir, '\'') != NULL)
        return false;
    FILE *g = popen("gnuplot 2>/dev/null", "w");
    if (g == NULL)
        return false;
    /* noenhanced: book and position names hold underscores, which enhanced text would turn
     * into subscripts */
    fprintf(g, "set terminal svg size 820,380 dynamic noenhanced font 'sans,11' background "
               "'#ffffff'\n"
               "set style fill solid 0.75 border -1\n"
               "set grid ytics lc rgb '#dddddd'\n"
               "set key top left\n");
    const char *drawn[3];
    size_t ndrawn = 0;
    if (in->mc != NULL && in->mc->nscen > 1) {
        drawn[ndrawn++] = "pnl.svg";
        double var = in->mc_var.var, es = in->mc_var.es;
        size_t bins = in->mc->nscen >= 400 ? 60 : 25;
        fprintf(g,
                "set output '%s/.pnl.svg.partial'\n"
                "stats '%s/pnl_mc.dat' using 1 nooutput\n"
                "bw = (STATS_max - STATS_min) / %zu.0\n"
                "if (bw <= 0) bw = 1\n"
                "bin(x) = bw * floor(x / bw) + bw / 2\n"
                "set xlabel 'portfolio P&L per scenario'\n"
                "set ylabel 'scenarios'\n"
                "set arrow 1 from %.17g, graph 0 to %.17g, graph 1 nohead lw 2 lc rgb '#c0392b'\n"
                "set arrow 2 from %.17g, graph 0 to %.17g, graph 1 nohead lw 2 dt 2 lc rgb "
                "'#8e44ad'\n"
                "set label 1 'VaR' at %.17g, graph 0.95 right offset -0.5,0 tc rgb '#c0392b'\n"
                "set label 2 'ES' at %.17g, graph 0.88 right offset -0.5,0 tc rgb '#8e44ad'\n"
                "plot '%s/pnl_mc.dat' using (bin($1)):(1.0) smooth freq with boxes lc rgb "
                "'#2e86c1' title 'Monte Carlo P&L'\n"
                "unset arrow; unset label; unset xlabel; unset ylabel\n",
                dir, dir, bins, -var, -var, -es, -es, -var, -es, dir);
    }
    if (in->parametric != NULL && in->parametric->nbooks > 0) {
        drawn[ndrawn++] = "contrib.svg";
        fprintf(g,
                "set output '%s/.contrib.svg.partial'\n"
                "stats '%s/contrib.dat' using 2 nooutput\n"
                "set yrange [(STATS_min < 0 ? 1.1 * STATS_min : 0):*]\n"
                "set style data histograms\n"
                "set style histogram clustered gap 1\n"
                "set xtics rotate by -40\n"
                "set ylabel 'VaR'\n"
                "plot '%s/contrib.dat' using 2:xtic(1) title 'Euler contribution' lc rgb "
                "'#2e86c1', '' using 3 title 'standalone VaR' lc rgb '#aab7b8'\n"
                "unset ylabel; set autoscale y\n",
                dir, dir, dir);
    }
    if (nlos > 0) {
        drawn[ndrawn++] = "losers.svg";
        fprintf(g,
                "set output '%s/.losers.svg.partial'\n"
                "set style data histograms\n"
                "set xtics rotate by -40\n"
                "set ylabel 'P&L in the worst scenario'\n"
                "plot '%s/losers.dat' using 2:xtic(1) title 'position P&L' lc rgb '#c0392b'\n",
                dir, dir);
    }
    return figures_settle(dir, drawn, ndrawn, pclose(g) == 0);
}

/* Copies an SVG file into the page, without its XML prologue. */
static bool inline_svg(FILE *out, const char *dir, const char *name)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    char line[8192];
    bool started = false;
    while (fgets(line, sizeof line, f) != NULL) {
        if (!started && strstr(line, "<svg") == NULL)
            continue;
        started = true;
        fputs(line, out);
    }
    fclose(f);
    return started;
}

static void figure(FILE *out, const char *dir, const char *name, const char *caption,
                   bool have_plots)
{
    fprintf(out, "<figure>\n");
    if (!have_plots || !inline_svg(out, dir, name))
        fprintf(out, "<p class=\"note\">Figure not drawn: gnuplot was not available.</p>\n");
    fprintf(out, "<figcaption>");
    html_text(out, caption);
    fprintf(out, "</figcaption>\n</figure>\n");
}

/* ---- backtesting and FRTB ---- */

/* The backtested books to draw, TOTAL first: indices into bt->book. */
static size_t bt_drawn(const cli_bt *bt, size_t *idx)
{
    size_t n = 0;
    for (size_t k = 0; k < bt->nbooks && n < REP_BT_FIGURES; k++)
        if (strcmp(bt->book[k].name, "TOTAL") == 0)
            idx[n++] = k;
    for (size_t k = 0; k < bt->nbooks && n < REP_BT_FIGURES; k++)
        if (strcmp(bt->book[k].name, "TOTAL") != 0)
            idx[n++] = k;
    return n;
}

/* bt_K.dat: date, P&L, -VaR, and the P&L again on exception days (NaN otherwise, which
 * gnuplot leaves out). */
static bool bt_data(cli_run *r, const cli_bt *bt, const size_t *idx, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        const cli_bt_book *b = &bt->book[idx[k]];
        char rel[64];
        snprintf(rel, sizeof rel, "report/bt_%zu.dat", k);
        FILE *f = cli_out_open(r, rel);
        if (f == NULL)
            return false;
        for (size_t i = 0; i < b->n; i++) {
            fprintf(f, "%s %.17g %.17g ", b->date[i], b->pnl[i], -b->var[i]);
            if (b->exc[i])
                fprintf(f, "%.17g\n", b->pnl[i]);
            else
                fputs("NaN\n", f);
        }
        if (!cli_out_close(r, f, rel))
            return false;
    }
    return true;
}

static bool bt_gnuplot(const char *dir, size_t n)
{
    if (n == 0)
        return true;
    if (strchr(dir, '\'') != NULL)
        return false;
    FILE *g = popen("gnuplot 2>/dev/null", "w");
    if (g == NULL)
        return false;
    fprintf(g, "set terminal svg size 820,300 dynamic noenhanced font 'sans,11' background "
               "'#ffffff'\n"
               "set grid ytics lc rgb '#dddddd'\n"
               "set key top left horizontal\n"
               "set xdata time\n"
               "set timefmt '%%Y-%%m-%%d'\n"
               "set format x '%%Y-%%m-%%d'\n"
               "set xtics rotate by -30\n"
               "set ylabel 'P&L'\n");
    for (size_t k = 0; k < n; k++)
        fprintf(g,
                "set output '%s/.bt_%zu.svg.partial'\n"
                "plot '%s/bt_%zu.dat' using 1:2 with lines lw 1.5 lc rgb '#2e86c1' title 'P&L', "
                "'' using 1:3 with lines lw 1.5 dt 2 lc rgb '#7f8c8d' title '-VaR', "
                "'' using 1:4 with points pt 7 ps 0.8 lc rgb '#c0392b' title 'exception'\n",
                dir, k, dir, k);
    bool ok = pclose(g) == 0;
    char names[REP_BT_FIGURES][32];
    const char *drawn[REP_BT_FIGURES];
    for (size_t k = 0; k < n; k++) {
        snprintf(names[k], sizeof names[k], "bt_%zu.svg", k);
        drawn[k] = names[k];
    }
    return figures_settle(dir, drawn, n, ok);
}

static const char *zone_style(rsk_zone z)
{
    return z == RSK_ZONE_GREEN ? "#d5f5e3" : z == RSK_ZONE_YELLOW ? "#fcf3cf" : "#f5b7b1";
}

static void bt_section(FILE *out, const char *dir, const cli_bt *bt, bool plots)
{
    fprintf(out,
            "<h2 id=\"backtest\">VaR backtesting</h2>\n<p>Each book's last %zu days at "
            "%.4g: an exception is a day whose loss exceeds the VaR reported for it. "
            "Zones: the Basel traffic light (250 days at 99%%), otherwise the binomial "
            "probability of the count.</p>\n",
            bt->window, bt->confidence);
    fprintf(out, "<table>\n<tr><th>book</th><th>days</th><th>exceptions</th><th>expected</th>"
                 "<th>Kupiec LR</th><th>p</th><th>Christoffersen LR</th><th>p</th>"
                 "<th>zone</th><th>plus factor</th></tr>\n");
    for (size_t k = 0; k < bt->nbooks; k++) {
        const cli_bt_book *b = &bt->book[k];
        const rsk_backtest_stats *s = &b->st;
        fprintf(out, "<tr%s><td>", strcmp(b->name, "TOTAL") == 0 ? " class=\"total\"" : "");
        html_text(out, b->name);
        fprintf(out, "</td><td>%zu</td><td>%zu</td><td>", s->days, s->exceptions);
        const double v[5] = {s->expected, s->kupiec_lr, s->kupiec_p, s->christoffersen_lr,
                             s->christoffersen_p};
        for (int i = 0; i < 5; i++) {
            html_num(out, v[i]);
            fprintf(out, "</td><td>");
        }
        fprintf(out, "<span style=\"background:%s;padding:0 .4em\">%s</span></td><td>",
                zone_style(s->zone), rsk_zone_name(s->zone));
        html_num(out, s->plus_factor);
        fprintf(out, "</td></tr>\n");
    }
    if (bt->nbooks == 0)
        fprintf(out, "<tr><td colspan=\"10\">no book could be backtested</td></tr>\n");
    fprintf(out, "</table>\n");
    if (bt->failed_books > 0 || bt->bad_rows > 0)
        fprintf(out,
                "<p class=\"note\">%zu book(s) and %zu row(s) left out; see the error "
                "table.</p>\n",
                bt->failed_books, bt->bad_rows);
    size_t idx[REP_BT_FIGURES], n = bt_drawn(bt, idx);
    for (size_t k = 0; k < n; k++) {
        const cli_bt_book *b = &bt->book[idx[k]];
        char name[32], caption[400];
        snprintf(name, sizeof name, "bt_%zu.svg", k);
        snprintf(caption, sizeof caption,
                 "Figure B%zu. Book %s: daily P&L against minus the reported VaR; exceptions "
                 "marked (%zu of %zu days, zone %s).",
                 k + 1, b->name, b->st.exceptions, b->st.days, rsk_zone_name(b->st.zone));
        figure(out, dir, name, caption, plots);
    }
    if (bt->nbooks > n)
        fprintf(out,
                "<p class=\"note\">Figures for the first %zu books; every book is in the "
                "table and in backtest.csv.</p>\n",
                n);
}

static void frtb_section(FILE *out, const rep_input *in)
{
    const rsk_run *run = in->frtb;
    const rsk_scen_set *fs = &run->sets[run->frtb_set];
    fprintf(out,
            "<h2 id=\"frtb\">FRTB expected shortfall</h2>\n<p>Internal-models ES at "
            "97.5%% over %zu scenarios, scaled to 10 days; ES_10(P, j) moves only the "
            "factors of liquidity horizon at least LH_j.</p>\n",
            fs->n);
    fprintf(out, "<table>\n<tr><th>book</th><th>ES 10</th><th>ES 20</th><th>ES 40</th>"
                 "<th>ES 60</th><th>ES 120</th><th>liquidity-adjusted ES</th>"
                 "<th>coverage</th></tr>\n");
    size_t nb = in->run->ds.pos.nbooks;
    for (size_t b = 0; b <= nb; b++) {
        fprintf(out, "<tr%s><td>", b == nb ? " class=\"total\"" : "");
        html_text(out, book_of(in, b));
        uint64_t ok = 0, req = 0;
        for (size_t j = 0; j < RSK_FRTB_NLH; j++) {
            fprintf(out, "</td><td>");
            html_num(out, fs[j].has_var ? fs[j].es[b] + 0.0 : NAN);
            ok += fs[j].pnl.ok_cells[b];
            req += fs[j].pnl.req_cells[b];
        }
        fprintf(out, "</td><td>");
        html_num(out, run->has_frtb ? run->frtb_es[b] : NAN);
        fprintf(out, "</td><td>%.4f</td></tr>\n", req ? (double)ok / (double)req : 1.0);
    }
    fprintf(out, "</table>\n");
}

/* ---- the page ---- */

static void coverage_banner(FILE *out, const rep_input *in)
{
    const cli_run *r = in->run;
    bool partial = r->deadline_hit || in->mc_var.coverage < 1.0 ||
                   (in->hist != NULL && in->hist_var.coverage < 1.0);
    if (!partial)
        return;
    fprintf(out, "<p class=\"partial\">PARTIAL RESULTS: ");
    if (r->deadline_hit)
        fprintf(out, "the deadline of %.0f ms was reached; ", r->opt.deadline_ms);
    fprintf(out,
            "Monte Carlo coverage %.4f%s. Aggregates sum only the cells that were "
            "computed; see the error table.</p>\n",
            in->mc_var.coverage,
            in->hist != NULL ? (in->hist_var.coverage < 1.0 ? ", historical below 1" : "") : "");
}

static void var_table(FILE *out, const rep_input *in)
{
    const rsk_parametric *pv = in->parametric;
    fprintf(out, "<table>\n<tr><th>book</th><th>parametric VaR</th><th>Euler "
                 "contribution</th><th>MC VaR</th><th>MC ES</th>");
    if (in->hist != NULL)
        fprintf(out, "<th>historical VaR</th><th>historical ES</th>");
    fprintf(out, "<th>MC coverage</th></tr>\n");
    size_t nb = pv->nbooks;
    for (size_t b = 0; b <= nb; b++) {
        /* as the run computed them (var.csv's numbers) */
        double mv = NAN, me = NAN, hv = NAN, he = NAN;
        if (in->mc_set->has_var) {
            mv = in->mc_set->var[b];
            me = in->mc_set->es[b];
        }
        if (in->hist_set != NULL && in->hist_set->has_var) {
            hv = in->hist_set->var[b];
            he = in->hist_set->es[b];
        }
        double cov =
            in->mc->req_cells[b] ? (double)in->mc->ok_cells[b] / (double)in->mc->req_cells[b] : 1.0;
        fprintf(out, "<tr%s><td>", b == nb ? " class=\"total\"" : "");
        html_text(out, book_of(in, b));
        fprintf(out, "</td><td>");
        html_num(out, pv->var[b]);
        fprintf(out, "</td><td>");
        html_num(out, pv->contrib[b]);
        fprintf(out, "</td><td>");
        html_num(out, mv);
        fprintf(out, "</td><td>");
        html_num(out, me);
        if (in->hist != NULL) {
            fprintf(out, "</td><td>");
            html_num(out, hv);
            fprintf(out, "</td><td>");
            html_num(out, he);
        }
        fprintf(out, "</td><td>%.4f</td></tr>\n", cov);
    }
    fprintf(out, "</table>\n");
}

static void losers_table(FILE *out, const rep_input *in, const loser *los, size_t n)
{
    fprintf(out,
            "<table>\n<tr><th>position</th><th>book</th><th>instrument</th><th>P&amp;L in "
            "%s</th></tr>\n",
            in->worst_name);
    for (size_t k = 0; k < n; k++) {
        fprintf(out, "<tr><td>");
        html_text(out, los[k].id);
        fprintf(out, "</td><td>");
        html_text(out, los[k].book);
        fprintf(out, "</td><td>");
        html_text(out, mdl_kind_name((mdl_kind)los[k].kind));
        fprintf(out, "</td><td>");
        html_num(out, los[k].pnl);
        fprintf(out, "</td></tr>\n");
    }
    fprintf(out, "</table>\n");
}

static void error_table(FILE *out, const rep_input *in)
{
    cli_run *r = in->run;
    fprintf(out, "<table>\n<tr><th>code</th><th>error records</th></tr>\n");
    bool any = false;
    for (unsigned c = 0; c < RK_STATUS_COUNT_; c++) {
        if (in->errors_by_code[c] == 0)
            continue;
        any = true;
        fprintf(out, "<tr><td>%s</td><td>%llu</td></tr>\n", rk_status_name((rk_status)c),
                (unsigned long long)in->errors_by_code[c]);
    }
    if (!any)
        fprintf(out, "<tr><td colspan=\"2\">no errors</td></tr>\n");
    fprintf(out, "</table>\n");
    if (!any || r->errors == NULL)
        return;
    fflush(r->errors);
    char path[4200];
    cli_out_partial(r, "errors.csv", path, sizeof path); /* still being written */
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    fprintf(out, "<table class=\"errors\">\n");
    char line[2048];
    for (int n = 0; n <= ERROR_ROWS && fgets(line, sizeof line, f) != NULL; n++) {
        line[strcspn(line, "\r\n")] = '\0';
        fprintf(out, "<tr><td>");
        /* CSV fields: a comma outside quotes ends a cell; doubled quotes are one quote */
        bool quoted = false;
        for (char *c = line; *c != '\0'; c++) {
            if (*c == '"') {
                if (quoted && c[1] == '"') {
                    html_text(out, "\"");
                    c++;
                } else {
                    quoted = !quoted;
                }
            } else if (*c == ',' && !quoted) {
                fprintf(out, "</td><td>");
            } else {
                char one[2] = {*c, '\0'};
                html_text(out, one);
            }
        }
        fprintf(out, "</td></tr>\n");
    }
    fclose(f);
    fprintf(out, "</table>\n<p class=\"note\">First %d rows; all of them are in errors.csv.</p>\n",
            ERROR_ROWS);
}

bool rep_write(const rep_input *in)
{
    cli_run *r = in->run;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/report", r->opt.out);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "riskengine %s: cannot create %s: %s\n", r->command, dir, strerror(errno));
        return false;
    }
    const loser *los = in->losers;
    size_t nlos = in->nlosers;
    /* each write prints its own reason */
    if (!write_data(r, "pnl_mc.dat", in, 0, NULL, 0) ||
        !write_data(r, "contrib.dat", in, 1, NULL, 0) ||
        !write_data(r, "losers.dat", in, 2, los, nlos))
        return false;
    bool plots = run_gnuplot(dir, in, nlos);
    size_t bt_idx[REP_BT_FIGURES], nbt = in->bt != NULL ? bt_drawn(in->bt, bt_idx) : 0;
    bool bt_plots = false;
    if (in->bt != NULL) {
        if (!bt_data(r, in->bt, bt_idx, nbt))
            return false;
        bt_plots = bt_gnuplot(dir, nbt);
    }

    FILE *out = cli_out_open(r, "report.html");
    if (out == NULL)
        return false;
    fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<title>riskengine nightly report</title>\n<style>\n"
                 "body{font-family:sans-serif;margin:2em;max-width:1100px;color:#222}\n"
                 "table{border-collapse:collapse;margin:1em 0}\n"
                 "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}\n"
                 "td:first-child,th:first-child{text-align:left}\n"
                 "tr.total{font-weight:bold;background:#f4f6f7}\n"
                 ".partial{background:#fdebd0;border:1px solid #e67e22;padding:.6em}\n"
                 ".note{color:#666;font-size:90%%}\n"
                 "table.errors td{text-align:left;font-size:85%%}\n"
                 "figure{margin:1em 0}\n</style>\n</head>\n<body>\n");
    fprintf(out, "<h1>riskengine nightly report</h1>\n<p>Data set <code>");
    html_text(out, r->opt.data);
    fprintf(out,
            "</code>: %zu positions (%zu valid), %zu underlyings, %zu factors, %zu books. "
            "VaR confidence %.4g, ES confidence %.4g, horizon %.4g day(s), %zu Monte Carlo "
            "scenarios (seed %llu).</p>\n",
            r->npos_all, r->nvalid_all, r->ds.mkt.nund, r->ds.mkt.nfactors,
            r->ds.pos.nbooks, r->opt.confidence, r->opt.es_confidence, r->opt.horizon,
            in->mc->nscen, (unsigned long long)r->opt.seed);
    coverage_banner(out, in);

    fprintf(out, "<h2 id=\"var\">Value at risk by book</h2>\n");
    var_table(out, in);

    fprintf(out, "<h2 id=\"distribution\">P&amp;L distribution</h2>\n");
    figure(out, dir, "pnl.svg",
           "Figure 1. Portfolio P&L over the Monte Carlo scenarios; VaR (solid) and ES (dashed) "
           "marked at minus their value.",
           plots);
    fprintf(out, "<h2 id=\"contributions\">VaR contributions by book</h2>\n");
    figure(out, dir, "contrib.svg",
           "Figure 2. Parametric VaR: Euler contribution of each book to the total (they sum to "
           "the total) beside the book's standalone VaR.",
           plots);
    fprintf(out, "<h2 id=\"losers\">Positions losing most in the worst scenario</h2>\n");
    if (nlos > 0) {
        figure(out, dir, "losers.svg", "Figure 3. The largest losses in the worst scenario.",
               plots);
        losers_table(out, in, los, nlos);
    } else {
        fprintf(out, "<p class=\"note\">No scenario P&amp;L was computed.</p>\n");
    }
    if (in->frtb != NULL)
        frtb_section(out, in);
    if (in->bt != NULL)
        bt_section(out, dir, in->bt, bt_plots);
    fprintf(out, "<h2 id=\"errors\">Errors</h2>\n");
    error_table(out, in);
    fprintf(out, "</body>\n</html>\n");
    return cli_out_close(r, out, "report.html");
}

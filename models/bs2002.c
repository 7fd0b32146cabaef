/*
 * bs2002.c - the Bjerksund-Stensland (2002) approximation of the american call (contract §2);
 * the american put comes from the put-call transformation P(S,K,T,r,q,s) = C(K,S,T,q,r,s)
 * (done by the caller, table.c).
 *
 * The exercise boundary is approximated by two flat pieces: I2 on [0, t1] and I1 on [t1, T],
 * t1 = (sqrt(5) - 1) T / 2, with b = r - q and
 *   beta = (1/2 - b/s^2) + sqrt((b/s^2 - 1/2)^2 + 2r/s^2),  B_inf = beta/(beta-1) K,
 *   B0 = max(K, r/(r-b) K),  h(t) = -(b t + 2 s sqrt(t)) K^2 / ((B_inf - B0) B0),
 *   I(t) = B0 + (B_inf - B0)(1 - e^{h(t)}),  I1 = I(t1),  I2 = I(T),  alpha_i = (I_i - K) I_i^-beta,
 *   C = alpha2 S^beta - alpha2 phi(S,t1,beta,I2,I2) + phi(S,t1,1,I2,I2) - phi(S,t1,1,I1,I2)
 *       - K phi(S,t1,0,I2,I2) + K phi(S,t1,0,I1,I2) + alpha1 phi(S,t1,beta,I1,I2)
 *       - alpha1 psi(S,T,beta,I1,I2,I1,t1) + psi(S,T,1,I1,I2,I1,t1) - psi(S,T,1,K,I2,I1,t1)
 *       - K psi(S,T,0,I1,I2,I1,t1) + K psi(S,T,0,K,I2,I1,t1)
 * and C = S - K when S >= I2 (immediate exercise); deep in the money the result can fall a
 * little below the european price (see the end of mdl_bs2002_call). phi is a single-barrier expectation (two
 * normal CDFs); psi the two-period one, four bivariate normals, all at correlation
 * +-sqrt(t1/T) = +-sqrt((sqrt(5)-1)/2), a constant: the quadrature nodes for it are tabulated
 * below (tests/models/ checks them against mdl_bvn_nodes_init).
 *
 * Work is shared: the logarithms of S, I1, I2, K once; per gamma in {beta, 1, 0} the drift,
 * lambda, kappa, the four e-arguments of psi and their N values; every power (I/S)^kappa,
 * S^gamma, alpha is folded into a single exponential of a sum of logarithms, which also keeps
 * S^beta from overflowing when beta is large (small volatility).
 *
 * Undefined (reported, the caller falls back to the tree): a trigger I1 or I2 that is not
 * positive (a carry so negative that b t + 2 s sqrt(t) < 0 makes h > 0 and e^h large), or a
 * non-finite result. Guards are also kept for a negative number under beta's square root,
 * beta <= 1 and B_inf <= B0 (division by zero in h), although with q > 0 (the only case that
 * gets that far) the radicand is at least (r/s^2 + 1/2)^2 >= 0 and beta > 1.
 */
#include <math.h>

#include "internal.h"
#include "model.h"

#define T1_RATIO 0.61803398874989484820 /* t1 / T = (sqrt(5) - 1) / 2 */

/* Nodes of the 20 point rule at rho = sqrt(T1_RATIO) = 0.78615137775742328607, computed to 40
 * digits with the definitions of internal.h. */
static const mdl_bvn_nodes rho_nodes = {
    20,
    {1.2678976359176811e-3, 1.2678976359176811e-3, 2.9225863514249886e-3, 2.9225863514249886e-3,
     4.5112813508692923e-3, 4.5112813508692923e-3, 5.9944556021744751e-3, 5.9944556021744751e-3,
     7.337169613030268e-3, 7.337169613030268e-3, 8.5079202289695286e-3, 8.5079202289695286e-3,
     9.4792577320918798e-3, 9.4792577320918798e-3, 1.02284119482053e-2, 1.02284119482053e-2,
     1.0737822200093585e-2, 1.0737822200093585e-2, 1.0995547855261546e-2, 1.0995547855261546e-2},
    {3.1078115038400976e-3, 2.0370152198684767, 1.629832681902136e-2, 1.9503761394191283,
     3.9746647192105851e-2, 1.808174247095129, 7.3086011914176957e-2, 1.6292401441370308,
     1.1599723235082112e-1, 1.4331627979666338, 1.683840384353744e-1, 1.2362896290584876,
     2.3052326843283856e-1, 1.0499247057617229, 3.0316773163627568e-1, 8.8039467487107564e-1,
     3.8758479225431805e-1, 7.301310160695805e-1, 4.8551320344795125e-1, 5.9900904700670786e-1},
    {5.0000482919952936e-1, 1.2987410316631817, 5.0013278246618316e-1, 1.2567232843755357,
     5.0078865403114518e-1, 1.1880157391880528, 5.0265666681166322e-1, 1.1021184552730408,
     5.0663951269877091e-1, 1.0089393265399334, 5.1379593647353898e-1, 9.1678558152482061e-1,
     5.2529119913691327e-1, 8.3145117760841288e-1, 5.4236564157980537e-1, 7.5623482286912735e-1,
     5.6631549566327875e-1, 6.9246223020355026e-1, 5.9846917751871962e-1, 6.4013197715513027e-1},
};

const mdl_bvn_nodes *mdl_bs2002_rho_nodes(void)
{
    return &rho_nodes;
}

/* What every phi and psi of one price shares. */
typedef struct bs_ctx {
    double lnS, lnK, lnI1, lnI2;
    double t1, T;
    double sv1, svT; /* sigma sqrt(t1), sigma sqrt(T) */
} bs_ctx;

/* What depends on gamma (and not on H). */
typedef struct bs_gamma {
    double gamma, mu, lam, kap; /* mu = b + (gamma - 1/2) s^2: drift of ln S under gamma */
    double e[4], Ne[4];         /* psi's e1..e4 and N(-e_i) */
} bs_gamma;

static void gamma_init(bs_gamma *g, const bs_ctx *c, double gamma, double b, double r,
                       double v2)
{
    g->gamma = gamma;
    g->mu = b + (gamma - 0.5) * v2;
    g->lam = -r + gamma * b + 0.5 * gamma * (gamma - 1.0) * v2;
    g->kap = 2.0 * b / v2 + (2.0 * gamma - 1.0);
    double m = g->mu * c->t1;
    double x1 = c->lnS - c->lnI1;                    /* ln(S / I1) */
    double x2 = 2.0 * c->lnI2 - c->lnS - c->lnI1;    /* ln(I2^2 / (S I1)) */
    g->e[0] = (x1 + m) / c->sv1;
    g->e[1] = (x2 + m) / c->sv1;
    g->e[2] = (x1 - m) / c->sv1;
    g->e[3] = (x2 - m) / c->sv1;
    for (int i = 0; i < 4; i++)
        g->Ne[i] = mdl_norm_cdf(-g->e[i]);
}

/* e^{logw} phi(S, t1, gamma, H, I2): over [0, t1] with the barrier I2. */
static double phi_t1(const bs_ctx *c, const bs_gamma *g, double lnH, double logw)
{
    double m = g->mu * c->t1;
    double d1 = (c->lnS - lnH + m) / c->sv1;
    double d2 = (2.0 * c->lnI2 - c->lnS - lnH + m) / c->sv1;
    double p = logw + g->lam * c->t1 + g->gamma * c->lnS;
    return exp(p) * mdl_norm_cdf(-d1) -
           exp(p + g->kap * (c->lnI2 - c->lnS)) * mdl_norm_cdf(-d2);
}

/* e^{logw} psi(S, T, gamma, H, I2, I1, t1): barrier I2 on [0, t1], I1 on [t1, T]. */
static double psi_T(const bs_ctx *c, const bs_gamma *g, double lnH, double logw)
{
    double m = g->mu * c->T;
    double f1 = (c->lnS - lnH + m) / c->svT;
    double f2 = (2.0 * c->lnI2 - c->lnS - lnH + m) / c->svT;
    double f3 = (2.0 * c->lnI1 - c->lnS - lnH + m) / c->svT;
    double f4 = (c->lnS + 2.0 * c->lnI1 - lnH - 2.0 * c->lnI2 + m) / c->svT;
    /* M(-e, -f, rho) = P(X > e, Y > f; rho); for -rho the quadrature flips (internal.h). */
    double m1 = g->Ne[0] * mdl_norm_cdf(-f1) + mdl_bvn_quad(&rho_nodes, g->e[0], f1);
    double m2 = g->Ne[1] * mdl_norm_cdf(-f2) + mdl_bvn_quad(&rho_nodes, g->e[1], f2);
    double m3 = g->Ne[2] * mdl_norm_cdf(-f3) - mdl_bvn_quad(&rho_nodes, -g->e[2], f3);
    double m4 = g->Ne[3] * mdl_norm_cdf(-f4) - mdl_bvn_quad(&rho_nodes, -g->e[3], f4);
    double p = logw + g->lam * c->T + g->gamma * c->lnS;
    return exp(p) * m1 - exp(p + g->kap * (c->lnI2 - c->lnS)) * m2 -
           exp(p + g->kap * (c->lnI1 - c->lnS)) * m3 +
           exp(p + g->kap * (c->lnI1 - c->lnI2)) * m4;
}

double mdl_bs2002_call(double S, double K, double T, double r, double sigma, double q,
                       bool *defined)
{
    bool ok_flag;
    if (defined == NULL)
        defined = &ok_flag;
    *defined = true;
    double b = r - q;
    if (b >= r) /* q <= 0: early exercise never pays, the american call is the european */
        return mdl_bsm(true, S, K, T, r, sigma, q);

    double v2 = sigma * sigma;
    double rad = (b / v2 - 0.5) * (b / v2 - 0.5) + 2.0 * r / v2;
    if (!(rad >= 0.0))
        goto undefined;
    double beta = (0.5 - b / v2) + sqrt(rad);
    if (!(beta > 1.0))
        goto undefined;
    double binf = beta / (beta - 1.0) * K;
    double b0 = fmax(K, r / (r - b) * K);
    double gap = binf - b0;
    if (!(gap > 0.0) || !isfinite(binf))
        goto undefined;

    bs_ctx c;
    c.T = T;
    c.t1 = T1_RATIO * T;
    c.sv1 = sigma * sqrt(c.t1);
    c.svT = sigma * sqrt(T);
    double scale = K * K / (gap * b0);
    double h1 = -(b * c.t1 + 2.0 * c.sv1) * scale;
    double h2 = -(b * T + 2.0 * c.svT) * scale;
    double I1 = b0 - gap * expm1(h1);
    double I2 = b0 - gap * expm1(h2);
    if (!(I1 > 0.0 && I2 > 0.0))
        goto undefined;
    if (S >= I2)
        return S - K;

    c.lnS = log(S);
    c.lnK = log(K);
    c.lnI1 = log(I1);
    c.lnI2 = log(I2);

    bs_gamma gb, g1, g0;
    gamma_init(&gb, &c, beta, b, r, v2);
    gamma_init(&g1, &c, 1.0, b, r, v2);
    gamma_init(&g0, &c, 0.0, b, r, v2);
    /* alpha_i e^{...} = (I_i - K) e^{... - beta ln I_i}: the alphas enter through logw. */
    double la1 = -beta * c.lnI1, la2 = -beta * c.lnI2;
    double lnKw = c.lnK; /* the factor K of the gamma = 0 terms */

    double price = (I2 - K) * exp(beta * c.lnS + la2);
    price += -(I2 - K) * phi_t1(&c, &gb, c.lnI2, la2) + phi_t1(&c, &g1, c.lnI2, 0.0) -
             phi_t1(&c, &g1, c.lnI1, 0.0) - phi_t1(&c, &g0, c.lnI2, lnKw) +
             phi_t1(&c, &g0, c.lnI1, lnKw) + (I1 - K) * phi_t1(&c, &gb, c.lnI1, la1);
    price += -(I1 - K) * psi_T(&c, &gb, c.lnI1, la1) + psi_T(&c, &g1, c.lnI1, 0.0) -
             psi_T(&c, &g1, c.lnK, 0.0) - psi_T(&c, &g0, c.lnI1, lnKw) +
             psi_T(&c, &g0, c.lnK, lnKw);
    if (!isfinite(price))
        goto undefined;
    /* The formula is the value of one particular exercise strategy, a lower bound on the
     * american price. Deep in the money its flat boundary can be worth slightly less than
     * never exercising (S=130, K=100, T=0.25, r=q=5%, s=35%: 30.159 against a european 30.204).
     * The contract (§2) prices with the approximation itself: the formula's value is returned. */
    return price;

undefined:
    *defined = false;
    return NAN;
}

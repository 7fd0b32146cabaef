/*
 * topology.c - what machine the engine runs on: hwloc discovery of this machine, or a
 * synthetic description / XML file standing in for one; the cores the process may use (hwloc
 * restricts to the allowed cpuset by default), the cgroup CPU quota, the NUMA node of every
 * core, and the choice of a core for each worker.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "engine_internal.h"

static void set_msg(char *msg, size_t msglen, const char *what, const char *detail)
{
    if (msg != NULL && msglen > 0)
        snprintf(msg, msglen, "%s%s%s", what, detail[0] ? ": " : "", detail);
}

/* Reads "quota period" (v2 cpu.max, "max" = unlimited) or a single number (v1). */
static bool read_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    bool ok = fgets(buf, (int)len, f) != NULL;
    fclose(f);
    return ok;
}

/* The process's own cgroup path for a controller ("" for the v2 unified hierarchy). */
static bool own_cgroup(const char *controller, char *out, size_t len)
{
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (f == NULL)
        return false;
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof line, f) != NULL) {
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (c2 == NULL)
            continue;
        *c2 = '\0';
        const char *ctrls = c1 + 1;
        bool match;
        if (controller[0] == '\0') {
            match = ctrls[0] == '\0';
        } else {
            match = false;
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%s", ctrls);
            char *save = NULL;
            for (char *tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
                if (strcmp(tok, controller) == 0)
                    match = true;
        }
        if (match) {
            char *p = c2 + 1;
            p[strcspn(p, "\n")] = '\0';
            snprintf(out, len, "%s", strcmp(p, "/") == 0 ? "" : p);
            found = true;
        }
    }
    fclose(f);
    return found;
}

/* cgroup CPU quota in CPUs; 0 when unlimited or unknown. */
static double cgroup_quota(void)
{
    char cg[400], path[512], buf[128];
    /* v2: the own cgroup's cpu.max, else the mount root's (a container's own cgroup). */
    const char *v2[2] = {NULL, "/sys/fs/cgroup/cpu.max"};
    if (own_cgroup("", cg, sizeof cg)) {
        snprintf(path, sizeof path, "/sys/fs/cgroup%s/cpu.max", cg);
        v2[0] = path;
    }
    for (int i = 0; i < 2; i++) {
        if (v2[i] == NULL || !read_line(v2[i], buf, sizeof buf))
            continue;
        char q[32];
        long long period = 0;
        if (sscanf(buf, "%31s %lld", q, &period) == 2) {
            if (strcmp(q, "max") == 0 || period <= 0)
                return 0;
            long long quota = strtoll(q, NULL, 10);
            return quota > 0 ? (double)quota / (double)period : 0;
        }
    }
    /* v1: cpu.cfs_quota_us / cpu.cfs_period_us, quota -1 = unlimited. */
    const char *roots[2] = {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"};
    bool have_cg = own_cgroup("cpu", cg, sizeof cg);
    for (int r = 0; r < 2; r++) {
        for (int own = have_cg ? 1 : 0; own >= 0; own--) {
            char qb[64], pb[64];
            snprintf(path, sizeof path, "%s%s/cpu.cfs_quota_us", roots[r], own ? cg : "");
            if (!read_line(path, qb, sizeof qb))
                continue;
            snprintf(path, sizeof path, "%s%s/cpu.cfs_period_us", roots[r], own ? cg : "");
            if (!read_line(path, pb, sizeof pb))
                continue;
            long long quota = strtoll(qb, NULL, 10), period = strtoll(pb, NULL, 10);
            if (quota <= 0 || period <= 0)
                return 0;
            return (double)quota / (double)period;
        }
    }
    return 0;
}

rk_status eng_topo_load(eng_topo *t, const char *spec, char *msg, size_t msglen)
{
    memset(t, 0, sizeof *t);
    if (hwloc_topology_init(&t->topo) != 0) {
        set_msg(msg, msglen, "hwloc_topology_init failed", strerror(errno));
        return RK_INTERNAL;
    }
    if (spec != NULL && spec[0] != '\0') {
        struct stat sb;
        if (stat(spec, &sb) == 0 && S_ISREG(sb.st_mode)) {
            if (hwloc_topology_set_xml(t->topo, spec) != 0) {
                set_msg(msg, msglen, "cannot read hwloc XML topology", spec);
                goto fail;
            }
            snprintf(t->source, sizeof t->source, "xml: %s", spec);
        } else {
            if (hwloc_topology_set_synthetic(t->topo, spec) != 0) {
                set_msg(msg, msglen, "not an hwloc synthetic description nor an XML file", spec);
                goto fail;
            }
            snprintf(t->source, sizeof t->source, "synthetic: %s", spec);
        }
    } else {
        snprintf(t->source, sizeof t->source, "this machine");
    }
    if (hwloc_topology_load(t->topo) != 0) {
        set_msg(msg, msglen, "hwloc_topology_load failed", strerror(errno));
        goto fail;
    }
    t->this_system = hwloc_topology_is_thissystem(t->topo) != 0 && (spec == NULL || !spec[0]);

    hwloc_obj_type_t unit = HWLOC_OBJ_CORE;
    int nc = hwloc_get_nbobjs_by_type(t->topo, unit);
    if (nc <= 0) {
        unit = HWLOC_OBJ_PU;
        nc = hwloc_get_nbobjs_by_type(t->topo, unit);
    }
    if (nc <= 0) {
        set_msg(msg, msglen, "topology has no usable core", t->source);
        goto fail;
    }
    int nn = hwloc_get_nbobjs_by_type(t->topo, HWLOC_OBJ_NUMANODE);
    t->ncores = (size_t)nc;
    t->nnodes = nn > 0 ? (size_t)nn : 1;
    t->cores = calloc(t->ncores, sizeof *t->cores);
    t->core_node = calloc(t->ncores, sizeof *t->core_node);
    t->node_objs = calloc(t->nnodes, sizeof *t->node_objs);
    if (t->cores == NULL || t->core_node == NULL || t->node_objs == NULL) {
        set_msg(msg, msglen, "out of memory", "");
        eng_topo_fini(t);
        return RK_NO_MEMORY;
    }
    for (int i = 0; i < nn; i++)
        t->node_objs[i] = hwloc_get_obj_by_type(t->topo, HWLOC_OBJ_NUMANODE, (unsigned)i);
    for (size_t i = 0; i < t->ncores; i++) {
        hwloc_obj_t c = hwloc_get_obj_by_type(t->topo, unit, (unsigned)i);
        t->cores[i] = c;
        t->core_node[i] = 0;
        if (nn > 0 && c->nodeset != NULL && !hwloc_bitmap_iszero(c->nodeset)) {
            int os = hwloc_bitmap_first(c->nodeset);
            hwloc_obj_t nobj = hwloc_get_numanode_obj_by_os_index(t->topo, (unsigned)os);
            if (nobj != NULL)
                t->core_node[i] = nobj->logical_index;
        }
    }
    /* The quota is a property of this process on this machine: it does not apply to a
     * described machine. */
    t->quota_cpus = t->this_system ? cgroup_quota() : 0;
    return RK_OK;

fail:
    hwloc_topology_destroy(t->topo);
    t->topo = NULL;
    return RK_BAD_ARGUMENT;
}

void eng_topo_fini(eng_topo *t)
{
    free(t->cores);
    free(t->core_node);
    free(t->node_objs);
    if (t->topo != NULL)
        hwloc_topology_destroy(t->topo);
    memset(t, 0, sizeof *t);
}

size_t eng_topo_default_threads(const eng_topo *t)
{
    size_t n = t->ncores;
    if (t->quota_cpus > 0) {
        double q = ceil(t->quota_cpus);
        if (q < (double)n)
            n = (size_t)q;
    }
    return n > 0 ? n : 1;
}

void eng_topo_assign(const eng_topo *t, size_t n, size_t *core_of_worker)
{
    /* Per node, the next unused core (in core order); workers take nodes round-robin, skipping
     * nodes whose cores are all taken. Beyond the core count, cores are reused in order. */
    size_t *next = calloc(t->nnodes, sizeof *next);
    size_t w = 0, node = 0;
    if (next != NULL) {
        size_t taken = 0;
        while (w < n && taken < t->ncores) {
            for (size_t tries = 0; tries < t->nnodes; tries++, node = (node + 1) % t->nnodes) {
                size_t c = next[node];
                while (c < t->ncores && t->core_node[c] != node)
                    c++;
                if (c < t->ncores) {
                    core_of_worker[w++] = c;
                    next[node] = c + 1;
                    taken++;
                    node = (node + 1) % t->nnodes;
                    break;
                }
                next[node] = c;
            }
        }
        free(next);
    }
    for (size_t k = 0; w < n; w++, k++)
        core_of_worker[w] = k % t->ncores;
}

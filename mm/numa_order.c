/*
 * The order in which nodes are tried for memory (include/mm/numa.h).
 *
 * Linux builds, for every node, a zonelist: the zones of the node itself,
 * then those of the next best node, and so on (mm/page_alloc.c,
 * build_zonelists with find_next_best_node), so that a node short of
 * memory takes it from the nearest one.  Here the same order, over nodes
 * only (each node's zones will follow it in their usual order), as a pure
 * function of the layout: the later step that gives each node its own
 * allocators builds its zonelists from it.  Linux breaks ties between
 * equally distant nodes with a few heuristics (nodes with no CPUs first,
 * spreading the load between nodes); we take the lower node number,
 * which keeps the order easy to predict and to test.
 *
 * Invariant: the order written holds each node that has memory exactly
 * once, the asked node first when it has memory, and the distances from
 * the asked node never decrease along it.
 */
#include <mm/numa.h>
#include <kernel/errno.h>

void numa_default_distances(struct numa_layout *l)
{
    for (unsigned i = 0; i < MAX_NUMNODES; i++)
        for (unsigned j = 0; j < MAX_NUMNODES; j++)
            l->distance[i][j] = i == j ? LOCAL_DISTANCE : REMOTE_DISTANCE;
    l->from_slit = false;
}

void numa_layout_single(struct numa_layout *l)
{
    *l = (struct numa_layout){ .nr_nodes = 1 };
    numa_default_distances(l);
}

/* Does `a` come before `b` in the order of `node`? */
static bool better(const struct numa_layout *l, unsigned node, unsigned a, unsigned b)
{
    if ((a == node) != (b == node))
        return a == node;
    if (l->distance[node][a] != l->distance[node][b])
        return l->distance[node][a] < l->distance[node][b];
    return a < b;
}

int numa_fallback_order(const struct numa_layout *l, unsigned node,
                        uint8_t order[MAX_NUMNODES])
{
    if (!l || l->nr_nodes == 0 || l->nr_nodes > MAX_NUMNODES || node >= l->nr_nodes)
        return -EINVAL;
    /* A single node without SRAT lists no ranges: all memory is its own. */
    bool single = !l->from_srat;
    int n = 0;
    for (unsigned j = 0; j < l->nr_nodes; j++) {
        if (!single && l->node[j].mem_bytes == 0)
            continue;                       /* memory-less: never a target */
        int k = n++;                        /* insertion: at most 8 nodes */
        while (k > 0 && better(l, node, j, order[k - 1])) {
            order[k] = order[k - 1];
            k--;
        }
        order[k] = (uint8_t)j;
    }
    return n;
}

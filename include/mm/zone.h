/*
 * Building the node and its zones from the cleaned memory map
 * (mm/zone.c), and the statistics in Linux's /proc formats (mm/mmstat.c).
 */
#ifndef MM_ZONE_H
#define MM_ZONE_H

#include <mm/page.h>

/*
 * Start a node over mem_map[0 .. max_pfn): every frame reserved, zone
 * spans set (DMA < 16 MiB <= DMA32 < 4 GiB <= NORMAL), each zone's node
 * pointer set to `node`, and node0 = node.  mem_map must be writable
 * memory of max_pfn * sizeof(struct page) bytes.
 */
void node_init(struct mem_node *node, struct page *mem_map, uint64_t max_pfn,
                  void *(*phys_to_virt)(uint64_t), void (*report)(const char *));
/*
 * Node nid (1 .. MAX_NUMNODES - 1) made empty, sharing node0's mem_map,
 * direct map and report hook, and registered as node_data[nid]; its
 * frames come with node_set_span.
 */
void node_init_empty(struct mem_node *node, int nid);
/* The node's span becomes [start, end) (its zones: that span cut at 16 MiB
 * and 4 GiB, empty when outside), and the frames of the span are marked
 * as its zones' (page.zone).  Before any frame is added. */
void node_set_span(struct mem_node *node, uint64_t start, uint64_t end);
/* Hand frames [start_pfn, end_pfn) to the allocator (split across zones;
 * frames outside the node's span are left to the other nodes).
 * Each frame must still be reserved: adding one twice is a bug of the
 * caller's (asserted in debug builds). */
void node_add_free(struct mem_node *node, uint64_t start_pfn, uint64_t end_pfn);
/* Count RAM frames the allocator will not manage (the kernel, mem_map,
 * loader hand-off) in their zones' "present" figure. */
void node_add_present(struct mem_node *node, uint64_t start_pfn, uint64_t end_pfn);
/* After the last add_free: compute watermarks and per-CPU cache sizes. */
void node_finish(struct mem_node *node);
/* Recompute node->preferred from the zones' managed counts; node_add_free,
 * node_finish and node_release call it whenever a zone may have gained
 * its first frames. */
void node_build_zonelist(struct mem_node *node);
/*
 * After boot: hand the reserved (held-back) frames [start, end) to the
 * allocator (mm/release.c); frames at or above max_pfn are ignored.
 * Returns the number of frames released (0 for an empty range), or
 * -EBUSY when a frame of the range is not PG_RESERVED or is referenced:
 * then nothing is done, and the error is reported and counted in
 * node->errors.
 */
long node_release(struct mem_node *node, uint64_t start, uint64_t end);
/* buddy_check() on every zone of every node: 0, or -EUCLEAN with the first
 * problem in why. */
int node_check(char *why, size_t size);

/* Text in Linux's formats; each returns the length like snprintf. */
int buddyinfo_show(char *buf, size_t size);
int zoneinfo_show(char *buf, size_t size);
int meminfo_show(char *buf, size_t size);
/* One node's, as Linux's /sys/devices/system/node/nodeN/{meminfo,numastat,
 * distance}; 0 (empty) for a nid that is no node. */
int node_meminfo_show(int nid, char *buf, size_t size);
/* "Zonelist of Node 0, Normal: 0:DMA32 0:DMA 1:Normal ..." (no newline):
 * the zones a request for zone t on node nid tries, in order. */
int zonelist_show(int nid, unsigned t, char *buf, size_t size);
int node_numastat_show(int nid, char *buf, size_t size);
int node_distance_show(int nid, char *buf, size_t size);

#endif

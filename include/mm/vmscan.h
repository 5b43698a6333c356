/*
 * Reclaim: taking frames back from processes when memory runs short, by
 * writing their anonymous pages to a swap area and reading them back on
 * the next access (docs/reclaim.md).  The kernel memory-management post
 * calls it "using the disk as an extension of RAM"; the i386 paging post
 * shows where the page goes: a non-present PTE whose other 31 bits say
 * where on disk it is.
 *
 *   mm/swap_state.c  the swap cache: a page that is both in memory and
 *                    in a slot (read in while other PTEs still name the
 *                    slot, or written out and not yet freed)
 *   mm/vmscan.c      the clock that ages pages by their accessed bits,
 *                    page-out through the reverse map, kswapd's work and
 *                    direct reclaim
 *   mm/swap_fault.c  a fault on a swap entry: the page-in, and what
 *                    fork, exit and munmap owe the slots their PTEs name
 *   mm/oom_kill.c    the OOM killer, when nothing can be freed
 *
 * Context: one CPU, a kernel that is not preemptible; swap I/O polls the
 * device, so reclaim never sleeps in the middle of a caller's work.
 */
#ifndef MM_VMSCAN_H
#define MM_VMSCAN_H

#include <stdbool.h>
#include <stdint.h>

#include <mm/gfp.h>
#include <mm/swap.h>

struct mm;
struct vma;

/* ---- the swap cache (mm/swap_state.c) ----------------------------------------- */

/* Pages in the swap cache (meminfo's SwapCached). */
extern uint64_t swap_cache_pages;
/* The cached page of entry e, or NULL.  A page whose read is still in
 * flight (PG2_LOCKED) is waited for first: the page returned holds its
 * slot's contents (NULL if the read failed: the page left the cache). */
struct page *lookup_swap_cache(swp_entry_t e);
/* The same without waiting: a page under read is returned as it is. */
struct page *swap_cache_find(swp_entry_t e);
/* pg (an anonymous page) joins the cache as e's page: the cache takes a
 * reference on the page and one on the slot (swap_duplicate). */
int add_to_swap_cache(struct page *pg, swp_entry_t e);
/* pg leaves the cache: the cache's references on the slot and on the page
 * go (the page may be freed with the latter). */
void delete_from_swap_cache(struct page *pg);
/* The entry of a cached page. */
static inline swp_entry_t page_swap_entry(const struct page *pg)
{
    return (swp_entry_t){ pg->next };
}
static inline bool page_in_swap_cache(const struct page *pg)
{
    return pg->flags2 & PG2_SWAPCACHE;
}
/* Migration: new takes old's place in the cache (same entry). */
void swap_cache_replace(struct page *old, struct page *new);
/* A cached page nobody maps any more and whose slot has no other user:
 * let both go.  true if it did. */
bool try_to_free_swap(struct page *pg);

/* ---- reclaim (mm/vmscan.c) ---------------------------------------------------- */

/*
 * Free up to `want` frames: age and page out anonymous pages (when gfp
 * allows I/O: __GFP_IO) and shrink the slab caches.  The frames freed.
 * kswapd: counted as kswapd's scan (pgscan_kswapd) rather than a direct
 * one (pgscan_direct).
 */
uint64_t shrink_memory(uint64_t want, gfp_t gfp, bool kswapd);
/* The same, freeing only frames of node nid (-1: any node). */
uint64_t shrink_node_memory(int nid, uint64_t want, gfp_t gfp, bool kswapd);
/* Page out one anonymous page now: 0, -EBUSY (pinned, or not an
 * anonymous page), -ENOSPC (no free slot), -EIO (the write failed: the
 * slot is retired, the page stays). */
int pageout_page(struct page *pg);
/*
 * Clustered page-out (mm/swap_cluster.c; Linux writes reclaimed pages in
 * batches that the block layer merges): the pages of `pages` that can
 * go out get consecutive slots (get_swap_pages) and are written in one
 * request per run of slots (swap_writepages), then unmapped as
 * pageout_page does.  A run whose write fails is written again page by
 * page, so that only a slot that fails alone is retired.  The number of
 * pages freed.  The clock gathers PAGEOUT_CLUSTER pages at most (Linux's
 * SWAP_CLUSTER_MAX).
 */
#define PAGEOUT_CLUSTER 32u
uint64_t pageout_cluster(struct page **pages, unsigned n);
/* pageout_page's steps, for pageout_cluster: can pg go out (its PTE
 * count, or -EBUSY; *young: one of its PTEs was used since the last
 * look, the bits are cleared); write a page in the cache to its slot
 * (0, or -EIO: the slot is retired and the page left the cache); unmap
 * a page whose slot holds its contents and free it. */
int pageout_eligible(struct page *pg, bool *young);
int pageout_write(struct page *pg, swp_entry_t e);
/* Every PTE of pg read-only, each CPU that may hold one flushed (the
 * swap cache's rule: a cached page is mapped read-only), before its copy
 * goes to disk: a thread writing on another CPU faults and waits instead
 * of writing into a frame whose copy is already taken. */
bool pageout_wrprotect(struct page *pg);   /* false: a CPU did not answer its flush */
void pageout_unmap(struct page *pg);
/* Start kswapd (mm/kswapd.c), the kernel thread that reclaims in the
 * background: woken when the zone an allocation wants falls below its
 * low watermark, at work until that zone is above its high one. */
void kswapd_run(void);
/* The clock's step at a page-cache page of a swap-backed file system
 * (tmpfs: kernel/fs/tmpfs_swap.c sets it at boot; NULL on the host): 0
 * when it went to swap and was freed, -EAGAIN (used lately: a second
 * chance), -EBUSY (pinned), -ENOSPC, -EIO.  Called only when gfp allows
 * __GFP_FS as well as __GFP_IO, as Linux's may_enter_fs. */
extern int (*shmem_reclaim_hook)(struct page *pg);
/*
 * MADV_PAGEOUT / MADV_COLD (mm/madvise_pageout.c; mm_madvise_reclaim of
 * include/mm/vma.h) on [start, end), inside v: each anonymous page that
 * only this PTE maps is paged out now (pageout_page) or loses its
 * accessed bit; the others stay.  0 (also with no swap, or when a page
 * cannot go), -EINVAL for a range outside v or another advice.
 */
int madvise_reclaim(struct mm *mm, struct vma *v, uint64_t start, uint64_t end, int advice);

/* ---- pages and slots of address spaces (mm/swap_fault.c) ----------------------- */

/* A fault at va of v whose PTE holds swap entry `payload`: bring the page
 * in (0), or -EIO (the read failed, or the entry is bad: SIGBUS),
 * -ENOMEM. */
int do_swap_page(struct mm *mm, struct vma *v, uint64_t va, uint64_t payload, unsigned access);
/* Set at boot (mm_payload_put/dup of include/mm/vma.h): exit and munmap
 * give a slot reference back, fork takes one more. */
void swap_payload_put(uint64_t payload);
int swap_payload_dup(uint64_t payload);
/* swapoff_hook (include/mm/swap.h): every PTE of every process holding an
 * entry of area type gets its page back, as if it faulted; once no PTE
 * names a slot, the swap cache lets the slots go.  0, or the first
 * page-in's error (-ENOMEM when memory cannot hold them: swapoff then
 * fails and the area goes back to work, -EIO). */
int swap_unuse(unsigned type);

/* ---- swap-in read-ahead (mm/swap_readahead.c) ---------------------------------- */

/* The window a major fault reads (Linux's vm.page-cluster,
 * /proc/sys/vm/page-cluster: 3 by default, 0 turns read-ahead off):
 * SWAP_RA_PAGES = 2^page_cluster slots, aligned, for a fault with no
 * history; then the area's window adapts (mm/swap_readahead.c): it
 * doubles while faults use the pages read ahead, up to SWAP_RA_MAX (one
 * block request, BLK_MAX_PAGES), and halves when they do not, down to the
 * faulting page alone. */
#define SWAP_RA_MAX 64u
#define PAGE_CLUSTER_MAX 5u
extern unsigned page_cluster;
#define SWAP_RA_PAGES (1u << page_cluster)
/* The window for a major fault at slot off of an area whose history is ra:
 * its size in slots (1: the faulting page alone) and, in *lo, its first
 * slot (the area's bounds are the caller's).  Pure. */
unsigned swap_ra_window(const struct swap_ra_info *ra, uint64_t off, uint64_t *lo);
/*
 * Read entry e's page into the frame at pa, and in the same request the
 * slots of its read-ahead window that are in use and not cached (the run
 * of them that contains e), into new pages left in the swap cache, mapped
 * nowhere (PG2_READAHEAD; counted in swap_ra and pswpin).  Frames for
 * those come from gfp's zones without reclaim.  The window's size and
 * place come from the area's history (si->ra).  A fault that continues a
 * forward stream also sends the next window without waiting (its pages
 * cached and PG2_LOCKED until the read is over).  0, or swap_readpage's
 * error for e alone (a failed run is read again as e's page only).
 */
int swap_readahead(swp_entry_t e, uint64_t pa, gfp_t gfp);
/* A fault at va of v is about to map pg, found in the swap cache: give
 * a page read ahead its anon_vma and count the hit (swap_ra_hit); the
 * marked first page of a window read without waiting sends the next
 * one.  0 or -ENOMEM. */
int swapin_cached(struct page *pg, struct vma *v, uint64_t va);
/* Wait for the read of pg (PG2_LOCKED), and any read sent ahead: on
 * return no read-ahead is in flight (swapoff, lookup_swap_cache). */
void swap_ra_wait(void);

/* ---- the OOM killer (mm/oom_kill.c) -------------------------------------------- */

/* Nothing could be freed for a process's fault: kill the largest process
 * (resident plus swapped plus page-table pages, Linux's oom_badness; init,
 * a process already dying and a vfork child on its parent's address
 * space are spared), with one log line as Linux prints it.  true if a process was
 * killed or is already dying (the caller retries), false if there is
 * none to kill. */
bool out_of_memory(void);

#endif

/*
 * NVMe (docs/block.md): a controller is a set of queue pairs in host
 * memory and doorbell registers in BAR0.  The host writes 64-byte
 * commands into a submission queue (SQ) and rings its tail doorbell; the
 * controller writes 16-byte completions into the paired completion queue
 * (CQ), flipping a phase bit in each entry so that new ones can be told
 * from old ones; the host rings the CQ head doorbell when it has read
 * them.  Queue pair 0 is the admin queue (its addresses go into the AQA,
 * ASQ and ACQ registers before the controller is enabled); I/O queue
 * pairs are made by admin commands.
 *
 * Here: the admin queue, Identify of the controller and of namespace 1,
 * one I/O queue pair, and Read/Write of namespace 1 with the data
 * described by PRP1 (the first page) and PRP2 (the second page, when the
 * transfer crosses one, or the address of a PRP list naming every page
 * after the first, for a request of more than two pages: nvme_rw_pages).
 * Completions are polled (no interrupt).
 *
 * Invariant: at most one command in flight; each queue's head/tail and
 * phase match the controller's between commands.  A controller that
 * does not answer (a timeout, the fatal-status bit, all-ones reads) is
 * given up, with a log line, and later requests fail with -EIO.
 */
#include <kernel/blkdev.h>
#include <kernel/errno.h>
#include <kernel/pci.h>
#include <kernel/printk.h>
#include <kernel/string.h>
#include <kernel/x86.h>
#include <mm/gfp.h>
#include <mm/page.h>
#include <mm/slab.h>
#include "drivers.h"

/* Controller registers (BAR0). */
#define NVME_CAP   0x00
#define NVME_VS    0x08
#define NVME_CC    0x14
#define NVME_CSTS  0x1c
#define NVME_AQA   0x24
#define NVME_ASQ   0x28
#define NVME_ACQ   0x30
#define NVME_DOORBELLS 0x1000

#define CC_EN         1u
#define CC_IOSQES(n)  ((uint32_t)(n) << 16)
#define CC_IOCQES(n)  ((uint32_t)(n) << 20)
#define CSTS_RDY      1u
#define CSTS_CFS      2u

/* Opcodes. */
#define ADMIN_CREATE_SQ 0x01
#define ADMIN_CREATE_CQ 0x05
#define ADMIN_IDENTIFY  0x06
#define ADMIN_SET_FEATURES 0x09
#define IO_WRITE 0x01
#define IO_READ  0x02

#define QUEUE_DEPTH 32          /* entries per queue (SQ: 2 KiB, CQ: 512 B) */
#define IO_TIMEOUT_MS 5000

struct nvme_cmd {
    uint32_t cdw0;              /* opcode 7:0, command id 31:16 */
    uint32_t nsid;
    uint64_t rsvd;
    uint64_t mptr;
    uint64_t prp1, prp2;
    uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};
_Static_assert(sizeof(struct nvme_cmd) == 64, "an NVMe command is 64 bytes");

struct nvme_cqe {
    uint32_t result;
    uint32_t rsvd;
    uint16_t sq_head, sq_id;
    uint16_t cid;
    uint16_t status;            /* phase bit 0, status 15:1 */
};
_Static_assert(sizeof(struct nvme_cqe) == 16, "an NVMe completion is 16 bytes");

struct nvme_queue {
    uint16_t qid, depth, tail, head;
    uint16_t phase;
    struct page *sq_page, *cq_page;
    struct nvme_cmd *sq;
    volatile struct nvme_cqe *cq;
};

struct nvme {
    struct block_device bd;
    char pci[16];
    volatile uint8_t *regs;
    unsigned stride;            /* doorbell stride in bytes */
    unsigned timeout_ms;        /* CAP.TO: how long enabling may take */
    struct nvme_queue admin, io;
    struct page *buf;           /* identify data */
    struct page *prp_list;      /* the one PRP list (one command at a time) */
    uint16_t cid;
    bool dead;
};

static unsigned nvme_count;

static uint32_t rd32(struct nvme *n, unsigned off)
{
    return *(volatile uint32_t *)(n->regs + off);
}
static void wr32(struct nvme *n, unsigned off, uint32_t v)
{
    *(volatile uint32_t *)(n->regs + off) = v;
}
static void wr64(struct nvme *n, unsigned off, uint64_t v)
{
    wr32(n, off, (uint32_t)v);
    wr32(n, off + 4, (uint32_t)(v >> 32));
}

static int queue_alloc(struct nvme_queue *q, uint16_t qid)
{
    q->qid = qid;
    q->depth = QUEUE_DEPTH;
    q->tail = q->head = 0;
    q->phase = 1;
    q->sq_page = alloc_page(GFP_DMA32);
    q->cq_page = alloc_page(GFP_DMA32);
    if (!q->sq_page || !q->cq_page)
        return -ENOMEM;
    q->sq = page_address(q->sq_page);
    q->cq = page_address(q->cq_page);
    memset(q->sq, 0, PAGE_SIZE);
    memset((void *)q->cq, 0, PAGE_SIZE);
    return 0;
}

static void queue_free(struct nvme_queue *q)
{
    if (q->sq_page)
        __free_pages(q->sq_page, 0);
    if (q->cq_page)
        __free_pages(q->cq_page, 0);
    q->sq_page = q->cq_page = NULL;
}

/* Submit one command and wait for its completion: 0, the NVMe status
 * (> 0: status code type and code), or -ETIMEDOUT. */
static int submit(struct nvme *n, struct nvme_queue *q, struct nvme_cmd *cmd, unsigned ms)
{
    if (n->dead)
        return -EIO;
    uint16_t cid = ++n->cid;
    cmd->cdw0 = (cmd->cdw0 & 0xffff) | (uint32_t)cid << 16;
    q->sq[q->tail] = *cmd;
    q->tail = (uint16_t)((q->tail + 1) % q->depth);
    barrier();
    wr32(n, NVME_DOORBELLS + (2u * q->qid) * n->stride, q->tail);

    struct pci_timeout t;
    pci_timeout_start(&t, ms);
    volatile struct nvme_cqe *e = &q->cq[q->head];
    while ((e->status & 1) != q->phase) {
        if (pci_timeout_expired(&t) || (rd32(n, NVME_CSTS) & CSTS_CFS)) {
            printk("nvme: %s: no completion of command %#x (queue %u) within %u ms; "
                   "the controller is given up\n", n->pci, cmd->cdw0 & 0xff, q->qid, ms);
            n->dead = true;
            return -ETIMEDOUT;
        }
    }
    barrier();
    uint16_t status = e->status >> 1;
    uint16_t got = e->cid;
    q->head = (uint16_t)((q->head + 1) % q->depth);
    if (q->head == 0)
        q->phase ^= 1;
    wr32(n, NVME_DOORBELLS + (2u * q->qid + 1) * n->stride, q->head);
    if (got != cid) {
        printk("nvme: %s: completion for command id %u, expected %u; given up\n", n->pci,
               got, cid);
        n->dead = true;
        return -EIO;
    }
    return status;
}

static int nvme_rw(struct block_device *bd, uint64_t sector, uint64_t pa, uint32_t count,
                   bool write)
{
    struct nvme *n = bd->priv;
    uint64_t bytes = (uint64_t)count * SECTOR_SIZE;
    uint64_t first_page = pa & ~(PAGE_SIZE - 1);
    if (count == 0 || count > 65536 || (pa & 3) || pa + bytes > first_page + 2 * PAGE_SIZE)
        return -EIO;                    /* needs a PRP list: the layer never asks */
    struct nvme_cmd c = {
        .cdw0 = write ? IO_WRITE : IO_READ,
        .nsid = 1,
        .prp1 = pa,
        .prp2 = pa + bytes > first_page + PAGE_SIZE ? first_page + PAGE_SIZE : 0,
        .cdw10 = (uint32_t)sector,
        .cdw11 = (uint32_t)(sector >> 32),
        .cdw12 = count - 1,
    };
    int r = submit(n, &n->io, &c, IO_TIMEOUT_MS);
    if (r) {
        if (r > 0)
            printk("nvme: %s: %s of %u sectors at %lu failed (status %#x)\n", bd->name,
                   write ? "write" : "read", count, sector, r);
        return -EIO;
    }
    return 0;
}

/* n whole pages: PRP1 the first, PRP2 the second or the PRP list. */
static int nvme_rw_pages(struct block_device *bd, uint64_t sector, const uint64_t *pa,
                         unsigned n, bool write)
{
    struct nvme *ctl = bd->priv;
    if (n == 0 || n > bd->max_pages)
        return -EIO;
    uint64_t prp2 = 0;
    if (n == 2) {
        prp2 = pa[1];
    } else if (n > 2) {
        uint64_t *list = page_address(ctl->prp_list);
        for (unsigned i = 1; i < n; i++)
            list[i - 1] = pa[i];
        prp2 = page_to_phys(ctl->prp_list);
    }
    uint32_t count = n * (uint32_t)(PAGE_SIZE / SECTOR_SIZE);
    struct nvme_cmd c = {
        .cdw0 = write ? IO_WRITE : IO_READ,
        .nsid = 1,
        .prp1 = pa[0],
        .prp2 = prp2,
        .cdw10 = (uint32_t)sector,
        .cdw11 = (uint32_t)(sector >> 32),
        .cdw12 = count - 1,
    };
    int r = submit(ctl, &ctl->io, &c, IO_TIMEOUT_MS);
    if (r) {
        if (r > 0)
            printk("nvme: %s: %s of %u pages at %lu failed (status %#x)\n", bd->name,
                   write ? "write" : "read", n, sector, r);
        return -EIO;
    }
    return 0;
}

static const struct block_ops nvme_ops = { .rw = nvme_rw, .rw_pages = nvme_rw_pages };

static int wait_ready(struct nvme *n, bool ready)
{
    struct pci_timeout t;
    pci_timeout_start(&t, n->timeout_ms);
    for (;;) {
        uint32_t csts = rd32(n, NVME_CSTS);
        if (csts == 0xffffffffu || (ready && (csts & CSTS_CFS)))
            return -EIO;
        if (!!(csts & CSTS_RDY) == ready)
            return 0;
        if (pci_timeout_expired(&t))
            return -ETIMEDOUT;
    }
}

static int identify(struct nvme *n, uint32_t cns, uint32_t nsid)
{
    struct nvme_cmd c = {
        .cdw0 = ADMIN_IDENTIFY,
        .nsid = nsid,
        .prp1 = page_to_phys(n->buf),
        .cdw10 = cns,
    };
    memset(page_address(n->buf), 0, PAGE_SIZE);
    return submit(n, &n->admin, &c, n->timeout_ms);
}

/* An Identify string: fixed width, space padded. */
static void id_string(char *out, const uint8_t *in, size_t len)
{
    size_t k = 0;
    for (size_t i = 0; i < len; i++)
        out[k++] = in[i] >= 32 && in[i] < 127 ? (char)in[i] : '?';
    while (k && out[k - 1] == ' ')
        k--;
    out[k] = 0;
}

static int give_up(struct nvme *n, const char *why, int err)
{
    printk("nvme: %s: %s\n", n->pci, why);
    if (n->dead)
        return err;     /* it may still write our queues one day: keep them */
    if (n->regs)
        wr32(n, NVME_CC, 0);            /* disable: it stops using our queues */
    queue_free(&n->admin);
    queue_free(&n->io);
    if (n->buf)
        __free_pages(n->buf, 0);
    if (n->prp_list)
        __free_pages(n->prp_list, 0);
    kfree(n);
    return err;
}

static int setup_io_queues(struct nvme *n)
{
    struct nvme_cmd nq = { .cdw0 = ADMIN_SET_FEATURES, .cdw10 = 0x07, .cdw11 = 0 };
    int r = submit(n, &n->admin, &nq, n->timeout_ms);   /* one SQ, one CQ */
    if (r < 0)
        return r;
    if (queue_alloc(&n->io, 1))
        return -ENOMEM;
    struct nvme_cmd cq = {
        .cdw0 = ADMIN_CREATE_CQ,
        .prp1 = page_to_phys(n->io.cq_page),
        .cdw10 = (uint32_t)(n->io.depth - 1) << 16 | 1,
        .cdw11 = 1,                     /* physically contiguous, no interrupt */
    };
    r = submit(n, &n->admin, &cq, n->timeout_ms);
    if (r)
        return r < 0 ? r : -EIO;
    struct nvme_cmd sq = {
        .cdw0 = ADMIN_CREATE_SQ,
        .prp1 = page_to_phys(n->io.sq_page),
        .cdw10 = (uint32_t)(n->io.depth - 1) << 16 | 1,
        .cdw11 = 1u << 16 | 1,          /* completions to CQ 1, contiguous */
    };
    r = submit(n, &n->admin, &sq, n->timeout_ms);
    return r ? (r < 0 ? r : -EIO) : 0;
}

int nvme_probe(struct pci_dev *pd)
{
    struct nvme *n = kmalloc(sizeof(*n), GFP_KERNEL);
    if (!n)
        return -ENOMEM;
    memset(n, 0, sizeof(*n));
    pci_name(pd, n->pci, sizeof(n->pci));
    pci_enable_device(pd);
    n->regs = pci_map_bar(pd, 0);
    if (!n->regs)
        return give_up(n, "BAR0 is not a usable memory BAR", -ENODEV);
    if (pd->bar[0].size < NVME_DOORBELLS + 16) {
        n->regs = NULL;
        return give_up(n, "BAR0 too small for the registers and doorbells", -ENODEV);
    }
    uint64_t cap = rd32(n, NVME_CAP) | (uint64_t)rd32(n, NVME_CAP + 4) << 32;
    if (cap == ~0ul) {
        n->regs = NULL;
        return give_up(n, "the controller does not answer (registers read all ones)", -EIO);
    }
    unsigned mqes = (unsigned)(cap & 0xffff) + 1;
    unsigned to = (unsigned)(cap >> 24) & 0xff;
    n->stride = 4u << ((cap >> 32) & 0xf);
    n->timeout_ms = to ? (to * 500 < 30000 ? to * 500 : 30000) : 500;
    if (!((cap >> 37) & 1))
        return give_up(n, "the NVM command set is not supported", -ENODEV);
    if ((cap >> 48) & 0xf)
        return give_up(n, "4 KiB memory pages are below the controller's minimum", -ENODEV);
    if (mqes < QUEUE_DEPTH)
        return give_up(n, "queues shorter than 32 entries are not supported here", -ENODEV);
    if (NVME_DOORBELLS + 4 * n->stride > pd->bar[0].size)
        return give_up(n, "doorbells outside BAR0", -ENODEV);

    wr32(n, NVME_CC, 0);
    if (wait_ready(n, false))
        return give_up(n, "the controller does not stop (CSTS.RDY stays set)", -ETIMEDOUT);
    if (queue_alloc(&n->admin, 0) || !(n->buf = alloc_page(GFP_DMA32)) ||
        !(n->prp_list = alloc_page(GFP_DMA32)))
        return give_up(n, "no memory for the admin queue", -ENOMEM);
    wr32(n, NVME_AQA, (uint32_t)(QUEUE_DEPTH - 1) << 16 | (QUEUE_DEPTH - 1));
    wr64(n, NVME_ASQ, page_to_phys(n->admin.sq_page));
    wr64(n, NVME_ACQ, page_to_phys(n->admin.cq_page));
    wr32(n, NVME_CC, CC_EN | CC_IOSQES(6) | CC_IOCQES(4));     /* 64 B / 16 B entries */
    int r = wait_ready(n, true);
    if (r)
        return give_up(n, r == -ETIMEDOUT ? "the controller does not become ready" :
                          "the controller reports a fatal status", r);

    r = identify(n, 1, 0);
    if (r)
        return give_up(n, "Identify Controller failed", r < 0 ? r : -EIO);
    const uint8_t *id = page_address(n->buf);
    char model[41], serial[21];
    id_string(serial, id + 4, 20);
    id_string(model, id + 24, 40);
    uint32_t nn = (uint32_t)id[516] | (uint32_t)id[517] << 8 | (uint32_t)id[518] << 16 |
                  (uint32_t)id[519] << 24;
    /* MDTS: the largest transfer, 2^mdts minimum pages (4 KiB); 0: no limit */
    unsigned mdts = id[77];
    n->bd.max_pages = mdts && mdts < 7 && (1u << mdts) < BLK_MAX_PAGES ? 1u << mdts
                                                                       : BLK_MAX_PAGES;
    uint32_t vs = rd32(n, NVME_VS);
    printk("nvme: %s: \"%s\" serial \"%s\", NVMe %u.%u, %u namespaces, doorbell stride %u\n",
           n->pci, model, serial, vs >> 16, (vs >> 8) & 0xff, nn, n->stride);
    if (nn < 1)
        return give_up(n, "no namespace", -ENODEV);

    r = identify(n, 0, 1);
    if (r)
        return give_up(n, "Identify Namespace 1 failed", r < 0 ? r : -EIO);
    uint64_t nsze = 0;
    for (int i = 7; i >= 0; i--)
        nsze = nsze << 8 | id[i];
    unsigned flbas = id[26] & 0xf;
    unsigned lbads = id[128 + 4 * flbas + 2];
    if (nsze == 0)
        return give_up(n, "namespace 1 has a size of 0 blocks", -ENODEV);
    if (lbads != 9) {
        printk("nvme: %s: namespace 1 has %u-byte blocks\n", n->pci,
               lbads < 32 ? 1u << lbads : 0);
        return give_up(n, "only 512-byte blocks are supported", -ENODEV);
    }
    r = setup_io_queues(n);
    if (r)
        return give_up(n, "cannot create the I/O queue pair", r);

    snprintf(n->bd.name, sizeof(n->bd.name), "nvme%un1", nvme_count++);
    n->bd.nr_sectors = nsze;
    n->bd.dma_limit = ~0ul;             /* 64-bit PRPs */
    n->bd.ops = &nvme_ops;
    n->bd.priv = n;
    printk("nvme: %s: %s: namespace 1, %lu blocks of 512 bytes, I/O queue pair of %u\n",
           n->pci, n->bd.name, nsze, QUEUE_DEPTH);
    return blk_register(&n->bd);
}

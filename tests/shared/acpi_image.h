/*
 * ACPI tables built in memory, for tests/host/test_acpi.c and
 * tests/fuzz/fuzz_acpi.c: a small "physical memory" image at AI_BASE with
 * a read function bounded by it, and builders for the RSDP, the XSDT or
 * RSDT, the SRAT (CPU, x2APIC and memory entries) and the SLIT, shaped as
 * QEMU makes them (ACPI spec 5.2.5-5.2.8, 5.2.16, 5.2.17).
 */
#ifndef TESTS_SHARED_ACPI_IMAGE_H
#define TESTS_SHARED_ACPI_IMAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define AI_BASE 0x000e0000ul     /* where the image lies in "physical memory" */
#define AI_SIZE (64u << 10)

struct ai_mem {
    uint8_t b[AI_SIZE];
    size_t used;                 /* next free offset (tables are appended) */
    uint64_t reads_outside;      /* reads asked for outside the image */
};

static inline bool ai_read(void *ctx, uint64_t pa, void *dst, size_t n)
{
    struct ai_mem *m = ctx;
    if (pa < AI_BASE || pa - AI_BASE > AI_SIZE || n > AI_SIZE - (pa - AI_BASE)) {
        m->reads_outside++;
        return false;
    }
    memcpy(dst, m->b + (pa - AI_BASE), n);
    return true;
}

static inline void ai_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void ai_put64(uint8_t *p, uint64_t v)
{
    ai_put32(p, (uint32_t)v);
    ai_put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint8_t ai_sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

/* Set the checksum byte (offset 9) of the table at p so its n bytes sum to 0. */
static inline void ai_fix(uint8_t *p, size_t n)
{
    p[9] = 0;
    p[9] = (uint8_t)(0 - ai_sum(p, n));
}

/* A 36-byte header of length len. */
static inline void ai_header(uint8_t *p, const char *sig, uint32_t len)
{
    memset(p, 0, 36);
    memcpy(p, sig, 4);
    ai_put32(p + 4, len);
    p[8] = 1;
    memcpy(p + 10, "MMKTST", 6);
}

/* Table bodies under construction, in a caller's buffer. */
struct ai_table {
    uint8_t b[4096];
    uint32_t len;
};

static inline void ai_srat_begin(struct ai_table *t)
{
    memset(t->b, 0, sizeof(t->b));
    ai_header(t->b, "SRAT", 48);
    ai_put32(t->b + 36, 1);       /* reserved, 1 for compatibility */
    t->len = 48;
}

static inline void ai_srat_cpu(struct ai_table *t, uint32_t pxm, uint8_t apic, bool enabled)
{
    uint8_t *e = t->b + t->len;
    memset(e, 0, 16);
    e[0] = 0, e[1] = 16, e[2] = (uint8_t)pxm, e[3] = apic;
    ai_put32(e + 4, enabled ? 1 : 0);
    e[9] = (uint8_t)(pxm >> 8), e[10] = (uint8_t)(pxm >> 16), e[11] = (uint8_t)(pxm >> 24);
    t->len += 16;
}

static inline void ai_srat_x2apic(struct ai_table *t, uint32_t pxm, uint32_t id)
{
    uint8_t *e = t->b + t->len;
    memset(e, 0, 24);
    e[0] = 2, e[1] = 24;
    ai_put32(e + 4, pxm);
    ai_put32(e + 8, id);
    ai_put32(e + 12, 1);
    t->len += 24;
}

/* flags: 1 enabled, 2 hot-pluggable. */
static inline void ai_srat_mem(struct ai_table *t, uint32_t pxm, uint64_t base, uint64_t len,
                               uint32_t flags)
{
    uint8_t *e = t->b + t->len;
    memset(e, 0, 40);
    e[0] = 1, e[1] = 40;
    ai_put32(e + 2, pxm);
    ai_put64(e + 8, base);
    ai_put64(e + 16, len);
    ai_put32(e + 28, flags);
    t->len += 40;
}

/* The final length into the header, and the checksum. */
static inline void ai_finish(struct ai_table *t)
{
    ai_put32(t->b + 4, t->len);
    ai_fix(t->b, t->len);
}

/* A SLIT of n localities from the n * n matrix d (row-major). */
static inline void ai_slit(struct ai_table *t, unsigned n, const uint8_t *d)
{
    memset(t->b, 0, sizeof(t->b));
    ai_header(t->b, "SLIT", 44 + n * n);
    ai_put64(t->b + 36, n);
    memcpy(t->b + 44, d, (size_t)n * n);
    t->len = 44 + n * n;
    ai_finish(t);
}

/* Append len bytes to the image (16-byte aligned): their address. */
static inline uint64_t ai_place(struct ai_mem *m, const void *p, size_t len)
{
    m->used = (m->used + 15) & ~(size_t)15;
    if (m->used + len > AI_SIZE)
        return 0;
    memcpy(m->b + m->used, p, len);
    uint64_t pa = AI_BASE + m->used;
    m->used += len;
    return pa;
}

/*
 * The RSDP at AI_BASE (revision 2 with an XSDT when xsdt, else revision 0
 * with an RSDT), the root table, then the n tables (whole, as built).
 * Returns the RSDP's address.  The root table's offset is AI_ROOT.
 */
#define AI_ROOT 0x40
static inline uint64_t ai_machine(struct ai_mem *m, bool xsdt, const struct ai_table *const *t,
                                  unsigned n)
{
    memset(m->b, 0, sizeof(m->b));
    m->reads_outside = 0;
    unsigned esz = xsdt ? 8 : 4;
    m->used = AI_ROOT + 36 + esz * n;
    uint8_t *root = m->b + AI_ROOT;
    ai_header(root, xsdt ? "XSDT" : "RSDT", 36 + esz * n);
    for (unsigned i = 0; i < n; i++) {
        uint64_t pa = ai_place(m, t[i]->b, t[i]->len);
        if (xsdt)
            ai_put64(root + 36 + 8 * i, pa);
        else
            ai_put32(root + 36 + 4 * i, (uint32_t)pa);
    }
    ai_fix(root, 36 + esz * n);
    uint8_t *r = m->b;
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, "MMKTST", 6);
    r[15] = xsdt ? 2 : 0;
    ai_put32(r + 16, xsdt ? 0 : (uint32_t)(AI_BASE + AI_ROOT));
    ai_put32(r + 20, 36);
    ai_put64(r + 24, xsdt ? AI_BASE + AI_ROOT : 0);
    r[8] = 0;
    r[8] = (uint8_t)(0 - ai_sum(r, 20));
    r[32] = 0;
    r[32] = (uint8_t)(0 - ai_sum(r, 36));
    return AI_BASE;
}

/* The address of the i-th table the root lists (an XSDT machine). */
static inline uint8_t *ai_table_at(struct ai_mem *m, unsigned i)
{
    uint64_t pa = 0;
    memcpy(&pa, m->b + AI_ROOT + 36 + 8 * i, 8);
    return m->b + (pa - AI_BASE);
}

#endif

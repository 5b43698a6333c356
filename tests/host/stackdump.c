/*
 * A user program for the exec host tests, built by the Makefile with musl
 * four ways (64- and 32-bit, static and static-pie) and run natively on
 * the build machine: the host kernel is the oracle for
 * kernel/proc/user_stack.c and kernel/proc/elf_user.c.
 *
 * It prints what the host kernel gave it, before anything else runs:
 *
 *   sp <hex>      the stack pointer at the first instruction (at argc)
 *   top <hex>     the end of the [stack] mapping
 *   brk <hex>     the initial program break
 *   mem <hex>     every byte of [sp, top), two hex digits each
 *
 * sp is recovered from argv: at entry argv == sp + one slot, and musl's
 * startup code only reads the words above sp.  Nothing here depends on
 * the host's libc: it is a static musl program.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

int main(int argc, char **argv)
{
    (void)argc;
    uintptr_t sp = (uintptr_t)(argv - 1);
    /* Before fopen: musl's malloc grows the heap with brk. */
    unsigned long brk = (unsigned long)syscall(SYS_brk, 0);
    unsigned long lo, hi, top = 0;
    char line[512];

    FILE *maps = fopen("/proc/self/maps", "r");
    if (!maps)
        return 2;
    while (fgets(line, sizeof(line), maps))
        if (strstr(line, "[stack]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2)
            top = hi;
    fclose(maps);
    if (top <= sp)
        return 3;

    printf("sp %lx\ntop %lx\nbrk %lx\nmem ", (unsigned long)sp, top, brk);
    for (const unsigned char *p = (const unsigned char *)sp;
         p < (const unsigned char *)top; p++)
        printf("%02x", *p);
    printf("\n");
    return 0;
}

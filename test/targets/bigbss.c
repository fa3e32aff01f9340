/*
 * Live-test library with a large .bss: 8 MiB of zeros that the file does not hold, mapped anonymous by ld.so right
 * after the library's data segment. Build: gcc -shared -fPIC -o libbigbss.so bigbss.c
 */
static char big[8 << 20];

/* Refers to the array, so the compiler keeps it. */
char *bigbss(void) {
    return big;
}

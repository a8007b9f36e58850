/*
 * LD_PRELOAD library for MPI ranks (training.md §13.4): gethostname() returns the SageMaker host
 * name (`current_host` of resourceconfig.json) instead of the container's, and SM_CURRENT_HOST /
 * CURRENT_HOST are set to it before the program's main() runs (mpirun exports the master's values
 * to every rank). The config is read from $SM_INPUT_CONFIG_DIR (else /opt/ml/input/config).
 * Without a readable current_host the real host name is returned.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static char current_host[256];

static const char *skip_space(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

static void load_current_host(void) {
    const char *dir = getenv("SM_INPUT_CONFIG_DIR");
    char path[4096];
    char buf[65536];
    snprintf(path, sizeof path, "%s/resourceconfig.json",
             dir && *dir ? dir : "/opt/ml/input/config");
    FILE *f = fopen(path, "r");
    if (!f) return;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strstr(buf, "\"current_host\"");
    if (!p) return;
    p = skip_space(p + strlen("\"current_host\""));
    if (*p++ != ':') return;
    p = skip_space(p);
    if (*p++ != '"') return;
    size_t i = 0;
    while (*p && *p != '"' && *p != '\\' && i < sizeof current_host - 1) current_host[i++] = *p++;
    current_host[*p == '"' ? i : 0] = '\0';
}

__attribute__((constructor)) static void init(void) {
    load_current_host();
    if (current_host[0]) {
        setenv("SM_CURRENT_HOST", current_host, 1);
        setenv("CURRENT_HOST", current_host, 1);
    }
}

int gethostname(char *name, size_t len) {
    struct utsname uts;
    const char *host = current_host;
    if (!host[0]) {
        if (uname(&uts) != 0) return -1;
        host = uts.nodename;
    }
    size_t n = strlen(host);
    if (n + 1 > len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(name, host, n + 1);
    return 0;
}

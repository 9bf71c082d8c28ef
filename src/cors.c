/* The origins allowed to call from browsers, and which headers say so. */
#include "cors.h"

#include <string.h>
#include <strings.h>

/* RFC 9110 §5.6.2: tchar. */
static int is_tchar(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* scheme "://" host [":" port], the serialization of an origin (RFC 6454
 * §6.2): lower-case letters, digits, '+', '-', '.' in the scheme; the
 * host a name or an IPv4 or bracketed IPv6 address. */
static int origin_ok(const char *s)
{
    const char *p = s;
    while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' ||
           *p == '.')
        p++;
    if (p == s || strncmp(p, "://", 3) != 0)
        return 0;
    p += 3;
    const char *host = p;
    if (*p == '[') {
        while (*p && *p != ']' && (strchr("0123456789abcdefABCDEF:.", *p) || *p == '['))
            p++;
        if (*p++ != ']')
            return 0;
    } else {
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
               *p == '-' || *p == '.')
            p++;
    }
    if (p == host)
        return 0;
    if (*p == ':') {
        const char *digits = ++p;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == digits || p - digits > 5)
            return 0;
    }
    return *p == '\0';
}

int cors_add(cors *c, const char *origin)
{
    if (strcmp(origin, "*") == 0) {
        c->any = 1;
        return 0;
    }
    if (c->n == CORS_ORIGINS_MAX || strlen(origin) >= CORS_ORIGIN_MAX || !origin_ok(origin))
        return -1;
    strcpy(c->origin[c->n++], origin);
    return 0;
}

int cors_on(const cors *c) { return c->any || c->n > 0; }

const char *cors_allow(const cors *c, const char *origin)
{
    if (!origin || !*origin)
        return NULL;
    if (c->any)
        return "*";
    /* Scheme and host are case-insensitive; browsers send them lower-case. */
    for (size_t i = 0; i < c->n; i++)
        if (strcasecmp(c->origin[i], origin) == 0)
            return origin;
    return NULL;
}

int cors_header_list_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!is_tchar(s[n]) && s[n] != ',' && s[n] != ' ')
            return 0;
    return n > 0 && n <= 512;
}

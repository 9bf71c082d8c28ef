/* GET /healthz over a plain blocking socket. */
#include "healthcheck.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int healthcheck_run(const config *cfg, FILE *err)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    socklen_t len;
    memset(&ss, 0, sizeof ss);
    if (inet_pton(AF_INET, cfg->bind, &v4->sin_addr) == 1) {
        if (v4->sin_addr.s_addr == htonl(INADDR_ANY))
            v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)cfg->port);
        len = sizeof *v4;
    } else if (inet_pton(AF_INET6, cfg->bind, &v6->sin6_addr) == 1) {
        if (IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr))
            v6->sin6_addr = in6addr_loopback;
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)cfg->port);
        len = sizeof *v6;
    } else {
        fprintf(err, "healthcheck: invalid address %s\n", cfg->bind);
        return 1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0) {
        fprintf(err, "healthcheck: cannot create a socket\n");
        return 1;
    }
    struct timeval tv = {2, 0};
    static const char request[] = "GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n";
    char reply[64] = "";
    ssize_t got = -1;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 &&
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0 &&
        connect(fd, (struct sockaddr *)&ss, len) == 0 &&
        write(fd, request, sizeof request - 1) == (ssize_t)(sizeof request - 1))
        got = read(fd, reply, sizeof reply - 1);
    close(fd);
    if (got > 0)
        reply[got] = '\0';
    /* "HTTP/1.1 200 OK": the status code follows the first space. */
    const char *sp = got > 0 ? strchr(reply, ' ') : NULL;
    if (sp && strncmp(sp + 1, "200", 3) == 0)
        return 0;
    fprintf(err, "healthcheck: %s port %u: %s\n", cfg->bind, cfg->port,
            got > 0 ? "unhealthy reply" : "no reply");
    return 1;
}

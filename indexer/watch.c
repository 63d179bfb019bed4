/*
 * watch.c - keep an index in sync with folders: inotify reports changes,
 * and after the folder has been quiet for a moment the usual incremental
 * sync runs (it skips unchanged files by size and time, so a round costs
 * little more than the changed files).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_WATCHES 65536
#define MAX_WATCH_DEPTH 64
#define WATCH_MASK                                                           \
    (IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |  \
     IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB)

typedef struct watcher {
    int fd;
    int n_watches;
    int warned;
} watcher;

static void watch_tree(watcher *w, const char *dir, int depth)
{
    DIR *d;
    struct dirent *de;
    if (depth > MAX_WATCH_DEPTH)
        return;
    if (w->n_watches >= MAX_WATCHES) {
        if (!w->warned)
            askdocs_log(0, "warning: more than %d folders: changes below %s "
                           "are not watched",
                        MAX_WATCHES, dir);
        w->warned = 1;
        return;
    }
    if (inotify_add_watch(w->fd, dir, WATCH_MASK | IN_ONLYDIR) < 0) {
        askdocs_log(0, "warning: cannot watch %s: %s", dir, strerror(errno));
        return;
    }
    w->n_watches++;
    d = opendir(dir);
    if (!d)
        return;
    while ((de = readdir(d)) != NULL) {
        char *p;
        struct stat st;
        if (de->d_name[0] == '.')
            continue;
        p = askdocs_path_join(dir, de->d_name);
        if (!p)
            break;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            watch_tree(w, p, depth + 1);
        askdocs_free(p);
    }
    closedir(d);
}

/* Drain pending events; 1 if any is relevant. New folders get watched. */
static int drain(watcher *w)
{
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    int relevant = 0;
    for (;;) {
        ssize_t n = read(w->fd, buf, sizeof(buf));
        char *p;
        if (n <= 0)
            break;
        for (p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            p += sizeof(struct inotify_event) + ev->len;
            if (ev->mask & IN_Q_OVERFLOW) {
                relevant = 1;
                continue;
            }
            if (ev->len > 0 && ev->name[0] == '.')
                continue; /* hidden files, editors' temp files */
            relevant = 1;
        }
    }
    return relevant;
}

askdocs_rc askdocs_index_watch(askdocs_index *ix, const askdocs_config *conf,
                               idx_embedder *emb, const char *const *paths,
                               int n_paths, askdocs_progress_cb cb,
                               askdocs_round_cb round_cb, void *user,
                               volatile sig_atomic_t *stop)
{
    watcher w;
    askdocs_ingest_stats st;
    askdocs_rc rc;
    int i, dirty = 0;
    double last_event = 0;

    memset(&w, 0, sizeof(w));
    w.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w.fd < 0) {
        idx_set_error(ix, ASKDOCS_ERR_IO, "inotify: %s", strerror(errno));
        return ASKDOCS_ERR_IO;
    }
    for (i = 0; i < n_paths; i++) {
        struct stat sb;
        if (stat(paths[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
            watch_tree(&w, paths[i], 0);
        } else {
            /* a single file: watch its folder */
            char *dir = askdocs_strdup(paths[i]), *slash;
            if (!dir) {
                rc = ASKDOCS_ERR_NOMEM;
                goto out;
            }
            slash = strrchr(dir, '/');
            if (slash && slash != dir)
                *slash = '\0';
            else if (slash)
                slash[1] = '\0';
            else
                strcpy(dir, ".");
            if (inotify_add_watch(w.fd, dir, WATCH_MASK) >= 0)
                w.n_watches++;
            askdocs_free(dir);
        }
    }
    rc = askdocs_index_sync(ix, conf, emb, paths, n_paths, cb, user, &st);
    if (rc != ASKDOCS_OK)
        goto out;
    if (round_cb)
        round_cb(&st, user);
    while (!*stop) {
        struct pollfd pfd;
        int r;
        pfd.fd = w.fd;
        pfd.events = POLLIN;
        r = poll(&pfd, 1, 250);
        if (r < 0 && errno != EINTR) {
            idx_set_error(ix, ASKDOCS_ERR_IO, "poll: %s", strerror(errno));
            rc = ASKDOCS_ERR_IO;
            goto out;
        }
        if (r > 0 && drain(&w)) {
            dirty = 1;
            last_event = askdocs_now_ms();
        }
        /* wait until writers are done: 1 s without events */
        if (dirty && askdocs_now_ms() - last_event >= 1000 && !*stop) {
            dirty = 0;
            /* new folders may have appeared: watch the whole tree again
             * (inotify ignores a second watch on the same folder) */
            w.n_watches = 0;
            for (i = 0; i < n_paths; i++) {
                struct stat sb;
                if (stat(paths[i], &sb) == 0 && S_ISDIR(sb.st_mode))
                    watch_tree(&w, paths[i], 0);
            }
            rc = askdocs_index_sync(ix, conf, emb, paths, n_paths, cb, user,
                                    &st);
            if (rc == ASKDOCS_ERR_NOTFOUND) {
                /* a watched root itself went away: report, keep watching */
                askdocs_log(0, "warning: %s", askdocs_index_errmsg(ix));
                rc = ASKDOCS_OK;
                continue;
            }
            if (rc != ASKDOCS_OK)
                goto out;
            if (round_cb)
                round_cb(&st, user);
        }
    }
out:
    close(w.fd);
    return rc;
}

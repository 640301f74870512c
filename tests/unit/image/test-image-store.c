/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Tests of the image store against real images: mkimage.sh builds a
 * busybox image with umoci, the store pulls it from the OCI layout and
 * then from a docker-registry on 127.0.0.1 (without and with htpasswd
 * authentication) through skopeo. Needs root, umoci, skopeo,
 * docker-registry, busybox-static and htpasswd (apache2-utils). */

#include <arpa/inet.h>
#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "image/fs-util.h"
#include "image/image-store.h"
#include "macro.h"

static char *base_dir;
static pid_t registry_pid;

/* A failed assert() must not leave the registry running. */
static void kill_registry_on_abort(int sig) {
        if (registry_pid > 0)
                kill(registry_pid, SIGTERM);
        signal(sig, SIG_DFL);
        raise(sig);
}
static const char *mkimage;

static void run(const char *format, ...) _printf_(1, 2);
static void run(const char *format, ...) {
        _cleanup_free_ char *command = NULL;
        va_list ap;

        va_start(ap, format);
        assert(vasprintf(&command, format, ap) >= 0);
        va_end(ap);

        printf("+ %s\n", command);
        fflush(stdout);
        assert(system(command) == 0);
}

static char *path_join(const char *a, const char *b) {
        char *p;
        assert(asprintf(&p, "%s/%s", a, b) >= 0);
        return p;
}

static size_t count_entries(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        size_t n = 0;

        assert(d);
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

static void assert_file_content(const char *dir, const char *path, const char *expected) {
        _cleanup_free_ char *data = NULL;
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        assert(fd >= 0);
        assert(read_full_file(fd, path, 4096, &data, NULL) == 0);
        assert(streq(data, expected));
}

static ino_t inode_of(const char *path) {
        struct stat st;
        assert(stat(path, &st) == 0);
        return st.st_ino;
}

static void assert_no_work_leftovers(const char *store_root) {
        _cleanup_free_ char *tmp = path_join(store_root, "tmp");
        assert(count_entries(tmp) == 0);
}

static ImageStore *open_store(const char *root, char **insecure) {
        ImageStore *s = NULL;
        ImageStoreOptions o = {
                .root = root,
                .insecure_registries = insecure,
                .max_layer_size = 64u << 20,
                .max_layer_entries = 10000,
        };

        assert(image_store_open(&o, &s) == 0);
        return s;
}

static void check_v1_image(const ResolvedImage *image) {
        struct stat st;
        char target[64];
        _cleanup_free_ char *busybox = NULL, *sh = NULL;

        assert(image->layer_dirs);
        assert(image->layer_dirs[0] && image->layer_dirs[1] && !image->layer_dirs[2]);

        busybox = path_join(image->layer_dirs[0], "bin/busybox");
        assert(stat(busybox, &st) == 0);
        assert(S_ISREG(st.st_mode));
        assert(st.st_mode & S_IXUSR);

        sh = path_join(image->layer_dirs[0], "bin/sh");
        ssize_t n = readlink(sh, target, sizeof(target) - 1);
        assert(n == 7);
        target[n] = 0;
        assert(streq(target, "busybox"));

        assert_file_content(image->layer_dirs[1], "www/index.html", "one\n");

        assert(image->config.entrypoint);
        assert(streq(image->config.entrypoint[0], "/bin/sh"));
        assert(strstr(image->config.entrypoint[2], "httpd"));
        assert(image->config.env && streq(image->config.env[0], "PATH=/bin"));
        assert(streq_ptr(image->config.working_dir, "/www"));
        assert(strncmp(image->manifest_digest, "sha256:", 7) == 0);
}

static void test_oci_layout(const char *layout) {
        _cleanup_free_ char *root = path_join(base_dir, "store"), *v1 = NULL, *v2 = NULL, *by_digest = NULL;
        _cleanup_free_ char *digest = NULL, *error = NULL, *layers = NULL, *blobs = NULL;
        _cleanup_(image_store_freep) ImageStore *s = open_store(root, NULL);
        _cleanup_(resolved_image_freep) ResolvedImage *a = NULL, *b = NULL, *c = NULL, *loaded = NULL;
        ino_t base_inode;
        int r;

        assert(asprintf(&v1, "oci:%s:v1", layout) >= 0);
        assert(asprintf(&v2, "oci:%s:v2", layout) >= 0);

        printf("pull %s\n", v1);
        r = image_store_pull(s, v1, "OCI_LAYOUT", NULL, &a, &error);
        if (r < 0)
                printf("error: %s\n", error);
        assert(r == 0);
        check_v1_image(a);
        assert(streq(a->reference, v1));

        assert(image_store_resolve_digest(s, v1, "OCI_LAYOUT", NULL, &digest, &error) == 0);
        assert(streq(digest, a->manifest_digest));
        assert(streq(a->source_digest, a->manifest_digest));

        /* By digest: same manifest, same layer directories, nothing unpacked again. */
        base_inode = inode_of(a->layer_dirs[0]);
        assert(asprintf(&by_digest, "oci:%s@%s", layout, digest) >= 0);
        assert(image_store_pull(s, by_digest, "OCI_LAYOUT", NULL, &b, &error) == 0);
        assert(streq(b->manifest_digest, a->manifest_digest));
        assert(streq(b->layer_dirs[0], a->layer_dirs[0]));
        assert(inode_of(b->layer_dirs[0]) == base_inode);
        check_v1_image(b);

        /* v2 shares the busybox layer with v1. */
        assert(image_store_pull(s, v2, "OCI_LAYOUT", NULL, &c, &error) == 0);
        assert(!streq(c->manifest_digest, a->manifest_digest));
        assert(streq(c->layer_dirs[0], a->layer_dirs[0]));
        assert(inode_of(c->layer_dirs[0]) == base_inode);
        assert(!streq(c->layer_dirs[1], a->layer_dirs[1]));
        assert_file_content(c->layer_dirs[1], "www/index.html", "two\n");

        layers = path_join(root, "layers/sha256");
        blobs = path_join(root, "blobs/sha256");
        assert(count_entries(layers) == 3);
        /* 2 manifests, 2 configurations, 3 layer blobs */
        assert(count_entries(blobs) == 7);

        /* Loading needs no source: the layout is not consulted. */
        assert(image_store_load(s, a->manifest_digest, &loaded, &error) == 0);
        assert(streq(loaded->reference, by_digest));
        check_v1_image(loaded);
        loaded = resolved_image_free(loaded);

        free(error);
        error = NULL;
        r = image_store_load(s, "sha256:1111111111111111111111111111111111111111111111111111111111111111",
                             &loaded, &error);
        printf("load of an unknown digest: %s\n", error);
        assert(r == -ENOENT);
        assert(strstr(error, "never pulled"));

        /* GC keeping v2 drops v1's manifest, configuration, www layer blob and
         * unpacked www layer, and keeps the shared busybox layer. */
        char *keep[] = {c->manifest_digest, NULL};
        r = image_store_gc(s, keep);
        printf("gc keeping v2 removed %d\n", r);
        assert(r == 4);
        assert(access(a->layer_dirs[1], F_OK) < 0);
        assert(inode_of(c->layer_dirs[0]) == base_inode);
        assert(image_store_gc(s, keep) == 0);

        free(error);
        error = NULL;
        assert(image_store_load(s, a->manifest_digest, &loaded, &error) == -ENOENT);
        assert(image_store_load(s, c->manifest_digest, &loaded, &error) == 0);
        assert_file_content(loaded->layer_dirs[1], "www/index.html", "two\n");

        /* GC keeping nothing empties the store. */
        r = image_store_gc(s, NULL);
        assert(r == 6); /* 4 blobs of v2 and its 2 layers */
        assert(count_entries(layers) == 0);
        assert(count_entries(blobs) == 0);
        assert_no_work_leftovers(root);
        s = image_store_free(s);
        assert(rm_rf(root) == 0);
}

static void expect_pull_error(ImageStore *s, const char *identifier, const char *type,
                              const RegistryCredentials *creds, const char *expected) {
        _cleanup_(resolved_image_freep) ResolvedImage *image = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        r = image_store_pull(s, identifier, type, creds, &image, &error);
        printf("pull %s -> %d: %s\n", identifier, r, strna(error));
        assert(r < 0);
        assert(!image);
        assert(error);
        assert(strncmp(error, "Image ", 6) == 0);
        assert(strstr(error, identifier));
        assert(strstr(error, expected));
}

static void test_oci_layout_errors(const char *layout) {
        _cleanup_free_ char *root = path_join(base_dir, "store-errors"),
                            *bad = path_join(base_dir, "bad-layout");
        _cleanup_free_ char *id = NULL, *layers = NULL;
        _cleanup_(image_store_freep) ImageStore *s = open_store(root, NULL);

        assert(asprintf(&id, "oci:%s:nope", layout) >= 0);
        expect_pull_error(s, id, "OCI_LAYOUT", NULL, "tag nope not found in index.json.");
        free(id);

        assert(asprintf(&id, "oci:%s/missing:v1", base_dir) >= 0);
        expect_pull_error(s, id, "OCI_LAYOUT", NULL, "cannot be opened");
        free(id);

        expect_pull_error(s, "oci:relative:v1", "OCI_LAYOUT", NULL, "not of the form");
        expect_pull_error(s, "oci:/x:v1", "GIT", NULL, "repository type GIT is not supported");

        /* A layer blob with one byte changed: digest mismatch, nothing unpacked. */
        run("cp -a %s %s", layout, bad);
        run("f=$(ls -S %s/blobs/sha256 | head -n 1) && "
            "printf X | dd of=%s/blobs/sha256/$f bs=1 seek=100 conv=notrunc status=none",
            bad, bad);
        assert(asprintf(&id, "oci:%s:v1", bad) >= 0);
        expect_pull_error(s, id, "OCI_LAYOUT", NULL, "digest mismatch");
        free(id);
        id = NULL;

        /* A configuration naming the wrong diff_id: the unpacker rejects the layer. */
        run("rm -rf %s && cp -a %s %s", bad, layout, bad);
        run("cd %s && m=$(python3 -c \"import "
            "json;print(json.load(open('index.json'))['manifests'][0]['digest'][7:])\") && "
            "c=$(python3 -c \"import "
            "json;print(json.load(open('blobs/sha256/$m'))['config']['digest'][7:])\") && "
            "python3 - $m $c <<'PY'\n"
            "import hashlib, json, sys\n"
            "m, c = sys.argv[1], sys.argv[2]\n"
            "config = json.load(open('blobs/sha256/' + c))\n"
            "config['rootfs']['diff_ids'][1] = 'sha256:' + '2' * 64\n"
            "data = json.dumps(config).encode()\n"
            "cd = hashlib.sha256(data).hexdigest()\n"
            "open('blobs/sha256/' + cd, 'wb').write(data)\n"
            "manifest = json.load(open('blobs/sha256/' + m))\n"
            "manifest['config'] = dict(manifest['config'], digest='sha256:' + cd, size=len(data))\n"
            "data = json.dumps(manifest).encode()\n"
            "md = hashlib.sha256(data).hexdigest()\n"
            "open('blobs/sha256/' + md, 'wb').write(data)\n"
            "json.dump({'schemaVersion': 2, 'manifests': [{'mediaType': "
            "'application/vnd.oci.image.manifest.v1+json',"
            " 'digest': 'sha256:' + md, 'size': len(data), 'annotations': "
            "{'org.opencontainers.image.ref.name': 'v1'}}]},"
            " open('index.json', 'w'))\n"
            "PY",
            bad);
        assert(asprintf(&id, "oci:%s:v1", bad) >= 0);
        expect_pull_error(s, id, "OCI_LAYOUT", NULL, "diff_id mismatch");

        /* Only the busybox layer, which passed, stays; the refused one left nothing. */
        layers = path_join(root, "layers/sha256");
        assert(count_entries(layers) == 1);
        assert_no_work_leftovers(root);

        assert(image_store_gc(s, NULL) >= 1);
        assert(count_entries(layers) == 0);
        s = image_store_free(s);
        assert(rm_rf(bad) == 0);
        assert(rm_rf(root) == 0);
}

static uint16_t pick_free_port(void) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t length = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert(fd >= 0);
        assert(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
        assert(getsockname(fd, (struct sockaddr *)&a, &length) == 0);
        close(fd);
        return ntohs(a.sin_port);
}

static bool port_accepts(uint16_t port) {
        struct sockaddr_in a = {
                .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool ok;

        assert(fd >= 0);
        ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
        close(fd);
        return ok;
}

/* Starts docker-registry on 127.0.0.1:port, with htpasswd authentication
 * when htpasswd_file is set. Returns its PID. */
static pid_t start_registry(const char *dir, uint16_t port, const char *htpasswd_file) {
        _cleanup_free_ char *config = path_join(dir, "config.yml"), *storage = path_join(dir, "storage");
        _cleanup_free_ char *log = path_join(dir, "registry.log");
        FILE *f;
        pid_t pid;

        assert(mkdir(storage, 0700) == 0 || errno == EEXIST);
        f = fopen(config, "we");
        assert(f);
        fprintf(f,
                "version: 0.1\n"
                "log:\n  level: warn\n"
                "storage:\n  filesystem:\n    rootdirectory: %s\n"
                "http:\n  addr: 127.0.0.1:%u\n",
                storage, port);
        if (htpasswd_file)
                fprintf(f, "auth:\n  htpasswd:\n    realm: apprunner-test\n    path: %s\n", htpasswd_file);
        assert(fclose(f) == 0);

        pid = fork();
        assert(pid >= 0);
        if (pid == 0) {
                int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
                        _exit(126);
                execl("/usr/bin/docker-registry", "docker-registry", "serve", config, (char *)NULL);
                _exit(127);
        }

        registry_pid = pid;
        for (int i = 0; i < 100 && !port_accepts(port); i++)
                usleep(100 * 1000);
        assert(port_accepts(port));
        return pid;
}

static void stop_registry(pid_t pid) {
        int status;

        assert(kill(pid, SIGTERM) == 0);
        assert(waitpid(pid, &status, 0) == pid);
        registry_pid = 0;
}

static void test_registry(const char *layout, const char *local_v1_digest) {
        _cleanup_free_ char *dir = path_join(base_dir, "registry"),
                            *root = path_join(base_dir, "store-registry");
        _cleanup_free_ char *host = NULL, *id = NULL, *missing = NULL, *digest = NULL, *error = NULL;
        _cleanup_(resolved_image_freep) ResolvedImage *image = NULL;
        uint16_t port = pick_free_port();
        pid_t pid;
        int r;

        assert(mkdir(dir, 0700) == 0);
        assert(asprintf(&host, "127.0.0.1:%u", port) >= 0);
        assert(asprintf(&id, "%s/apprunner/busybox:v1", host) >= 0);
        assert(asprintf(&missing, "%s/apprunner/busybox:nope", host) >= 0);
        char *insecure[] = {host, NULL};

        pid = start_registry(dir, port, NULL);
        run("skopeo copy --quiet --dest-tls-verify=false oci:%s:v1 docker://%s", layout, id);

        _cleanup_(image_store_freep) ImageStore *s = open_store(root, insecure);
        r = image_store_pull(s, id, "REGISTRY", NULL, &image, &error);
        if (r < 0)
                printf("error: %s\n", error);
        assert(r == 0);
        check_v1_image(image);
        /* skopeo keeps OCI manifests byte for byte, so the digest survives the registry. */
        assert(streq(image->manifest_digest, local_v1_digest));
        r = image_store_resolve_digest(s, id, "ECR", NULL, &digest, &error);
        if (r < 0)
                printf("error: %s\n", error);
        assert(r == 0);
        assert(streq(digest, local_v1_digest));
        assert(streq(image->source_digest, local_v1_digest));
        assert_no_work_leftovers(root);

        /* A Docker schema 2 image: skopeo converts it to OCI media types in
         * the store, so only source_digest matches what resolving returns. */
        {
                _cleanup_free_ char *docker_id = NULL, *docker_digest = NULL;
                _cleanup_(resolved_image_freep) ResolvedImage *docker = NULL;

                assert(asprintf(&docker_id, "%s/apprunner/busybox-docker:v1", host) >= 0);
                run("skopeo copy --quiet --format v2s2 --dest-tls-verify=false oci:%s:v1 docker://%s",
                    layout, docker_id);
                r = image_store_pull(s, docker_id, "REGISTRY", NULL, &docker, &error);
                if (r < 0)
                        printf("error: %s\n", error);
                assert(r == 0);
                check_v1_image(docker);
                assert(!streq(docker->manifest_digest, docker->source_digest));
                r = image_store_resolve_digest(s, docker_id, "REGISTRY", NULL, &docker_digest, &error);
                assert(r == 0);
                assert(streq(docker_digest, docker->source_digest));
                assert_no_work_leftovers(root);
        }

        expect_pull_error(s, missing, "REGISTRY", NULL, "manifest unknown");
        expect_pull_error(s, "busybox:v1", "REGISTRY", NULL, "not of the form");

        /* Without the insecure_registries entry skopeo insists on TLS. */
        _cleanup_(image_store_freep) ImageStore *strict = open_store(root, NULL);
        expect_pull_error(strict, id, "ECR_PUBLIC", NULL, "HTTP response to HTTPS client");
        strict = image_store_free(strict);
        stop_registry(pid);

        /* The same with htpasswd authentication. */
        image = resolved_image_free(image);
        assert(image_store_gc(s, NULL) > 0);
        run("htpasswd -Bbn tester 's3cret pass' > %s/htpasswd", dir);
        _cleanup_free_ char *htpasswd = path_join(dir, "htpasswd");
        pid = start_registry(dir, port, htpasswd);

        const RegistryCredentials good = {"tester", "s3cret pass"};
        const RegistryCredentials wrong = {"tester", "wrong"};
        expect_pull_error(s, id, "REGISTRY", NULL, "unauthorized");
        expect_pull_error(s, id, "REGISTRY", &wrong, "unauthorized");
        assert_no_work_leftovers(root);

        free(error);
        error = NULL;
        r = image_store_pull(s, id, "REGISTRY", &good, &image, &error);
        if (r < 0)
                printf("error: %s\n", error);
        assert(r == 0);
        check_v1_image(image);
        assert_no_work_leftovers(root);
        stop_registry(pid);

        assert(image_store_gc(s, NULL) > 0);
        s = image_store_free(s);
        assert(rm_rf(root) == 0);
        assert(rm_rf(dir) == 0);
}

int main(int argc, char *argv[]) {
        char template[] = "/tmp/test-image-store-XXXXXX";
        _cleanup_free_ char *layout = NULL, *digest = NULL;
        _cleanup_(image_store_freep) ImageStore *probe = NULL;

        if (geteuid() != 0) {
                printf("skipping: needs root\n");
                return 77;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        signal(SIGABRT, kill_registry_on_abort);
        mkimage = argc > 1 ? argv[1] : "tests/unit/image/mkimage.sh";

        base_dir = mkdtemp(template);
        assert(base_dir);
        layout = path_join(base_dir, "layout");
        run("%s %s v1 one", mkimage, layout);
        run("%s %s v2 two", mkimage, layout);

        test_oci_layout(layout);
        test_oci_layout_errors(layout);

        /* The digest of v1 in the local layout, for comparison with the registry. */
        {
                _cleanup_free_ char *root = path_join(base_dir, "store-probe"), *id = NULL, *error = NULL;
                probe = open_store(root, NULL);
                assert(asprintf(&id, "oci:%s:v1", layout) >= 0);
                assert(image_store_resolve_digest(probe, id, "OCI_LAYOUT", NULL, &digest, &error) == 0);
                probe = image_store_free(probe);
                assert(rm_rf(root) == 0);
        }
        test_registry(layout, digest);

        assert(rm_rf(layout) == 0);
        assert(count_entries(base_dir) == 0);
        assert(rmdir(base_dir) == 0);
        return 0;
}

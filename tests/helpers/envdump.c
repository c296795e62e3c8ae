#include "config.h"
/*
 * envdump.c: a test program for restart actions. It writes what it was
 * started with to the file named by argv[1], one record per line:
 *
 *   argv LEN BYTES      each argument (LEN bytes, may hold newlines)
 *   env LEN BYTES       each environment entry, "NAME=value"
 *   fd N TARGET         each open fd (from /proc/self/fd), its readlink
 *   pid N / pgid N / sid N / ppid N
 *   sigblk HEX / sigign HEX    from /proc/self/status
 *   cwd PATH / uid N / gid N
 *
 * The lengths make values with newlines or shell metacharacters readable
 * back exactly. The output file and the directory stream reading
 * /proc/self/fd are left out of the fd list. Then it prints "envdump ok"
 * on stdout, "envdump err" on stderr, and exits with the status in
 * $ENVDUMP_EXIT (default 0).
 */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static void
rec(FILE *f, const char *kind, const char *s)
{
	fprintf(f, "%s %zu ", kind, strlen(s));
	fwrite(s, 1, strlen(s), f);
	fputc('\n', f);
}

static void
status_line(FILE *f, const char *key, const char *name)
{
	FILE	*s;
	char	 line[256];
	size_t	 n = strlen(key);

	if ((s = fopen("/proc/self/status", "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), s) != NULL) {
		if (strncmp(line, key, n) == 0 && line[n] == ':') {
			fprintf(f, "%s %s", name, line + n + 1 +
			    strspn(line + n + 1, " \t"));
			break;
		}
	}
	fclose(s);
}

int
main(int argc, char **argv)
{
	FILE		*f;
	DIR		*d;
	struct dirent	*e;
	char		 path[PATH_MAX], link[PATH_MAX], cwd[PATH_MAX];
	const char	*code;
	ssize_t		 n;
	char		**ep;
	int		 i, fd;

	if (argc < 2)
		return 2;
	if ((f = fopen(argv[1], "w")) == NULL)
		return 3;
	for (i = 0; i < argc; i++)
		rec(f, "argv", argv[i]);
	for (ep = environ; *ep != NULL; ep++)
		rec(f, "env", *ep);
	if ((d = opendir("/proc/self/fd")) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			fd = (int)strtol(e->d_name, NULL, 10);
			if (fd == dirfd(d) || fd == fileno(f))
				continue;
			snprintf(path, sizeof(path), "/proc/self/fd/%s",
			    e->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			link[n > 0 ? n : 0] = '\0';
			fprintf(f, "fd %d %s\n", fd, link);
		}
		closedir(d);
	}
	fprintf(f, "pid %ld\npgid %ld\nsid %ld\nppid %ld\n", (long)getpid(),
	    (long)getpgrp(), (long)getsid(0), (long)getppid());
	status_line(f, "SigBlk", "sigblk");
	status_line(f, "SigIgn", "sigign");
	if (getcwd(cwd, sizeof(cwd)) != NULL)
		fprintf(f, "cwd %s\n", cwd);
	fprintf(f, "uid %ld\ngid %ld\n", (long)getuid(), (long)getgid());
	if (fclose(f) != 0)
		return 3;
	printf("envdump ok\n");
	fflush(stdout);
	fprintf(stderr, "envdump err\n");
	code = getenv("ENVDUMP_EXIT");
	return code != NULL ? (int)strtol(code, NULL, 10) : 0;
}

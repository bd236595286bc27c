// C++ target for demangling: prints the address of a namespaced method.
#include <cstdio>
#include <unistd.h>

namespace demo {
struct Widget {
	__attribute__((noinline)) int spin(int n);
};
int Widget::spin(int n) { return n * 5; }
} // namespace demo

int main()
{
	char c;
	int (demo::Widget::*m)(int) = &demo::Widget::spin;
	void *addr;

	static_assert(sizeof(m) >= sizeof(addr), "pmf");
	__builtin_memcpy(&addr, &m, sizeof(addr));
	std::printf("demo::Widget::spin(int) %p\nend\n", addr);
	std::fflush(stdout);
	if (read(0, &c, 1) < 0)
		return 1;
	demo::Widget w;
	return w.spin(0);
}

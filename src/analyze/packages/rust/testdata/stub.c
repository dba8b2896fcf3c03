/* Smallest program that runs: exits 0. The fixtures graft metadata sections onto it. */
void _start(void) {
  __asm__ volatile("mov $60, %eax\n xor %edi, %edi\n syscall");
}

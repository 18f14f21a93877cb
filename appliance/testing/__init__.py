"""Emulators other tests can use, shipped the way gpiozero ships its mock pins: a pigpiod emulator,
fake gpiod lines, a mock box, a mosquitto harness, Wiegand waveforms."""
